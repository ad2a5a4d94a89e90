import unittest

from versions import compare, latest, parse


class HiddenVersionsTest(unittest.TestCase):
    def test_numeric_parts(self):
        self.assertEqual(compare("1.10.0", "1.9.0"), 1)
        self.assertEqual(compare("1.9.0", "1.10.0"), -1)
        self.assertEqual(compare("10", "9"), 1)
        self.assertEqual(compare("0.100", "0.99"), 1)

    def test_missing_parts_are_zero(self):
        self.assertEqual(compare("1.2", "1.2.0"), 0)
        self.assertEqual(compare("1.2.0.0", "1.2"), 0)
        self.assertEqual(compare("1.2", "1.2.1"), -1)
        self.assertEqual(compare("2", "1.99.99"), 1)

    def test_latest(self):
        self.assertEqual(latest(["1.2", "1.10", "1.9"]), "1.10")
        self.assertEqual(latest(["1.2", "1.2.0"]), "1.2")
        self.assertIsNone(latest([]))

    def test_not_a_version(self):
        for text in ("1.x", "", "1..2", "-1"):
            with self.assertRaises(ValueError, msg=text):
                parse(text)


if __name__ == "__main__":
    unittest.main()

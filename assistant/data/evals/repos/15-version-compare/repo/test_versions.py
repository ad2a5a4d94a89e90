import unittest

from versions import compare, latest, parse


class VersionsTest(unittest.TestCase):
    def test_compare(self):
        self.assertEqual(compare("1.2.3", "1.2.4"), -1)
        self.assertEqual(compare("2.0", "1.9"), 1)

    def test_two_digit_parts(self):
        self.assertEqual(compare("1.10.0", "1.9.0"), 1)
        self.assertEqual(latest(["1.2", "1.10", "1.9"]), "1.10")

    def test_not_a_version(self):
        with self.assertRaises(ValueError):
            parse("1.x")


if __name__ == "__main__":
    unittest.main()

import unittest

from roman import from_roman, to_roman


class HiddenRomanTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(from_roman("MMXXIV"), 2024)
        self.assertEqual(from_roman("MCMXCIV"), 1994)
        self.assertEqual(from_roman("XLII"), 42)
        self.assertEqual(from_roman("MMMCMXCIX"), 3999)

    def test_round_trip(self):
        for number in range(1, 4000):
            self.assertEqual(from_roman(to_roman(number)), number)

    def test_refused(self):
        for text in ("IIII", "IC", "", "abc", "MMMM", "VX", "iv", "XIIV", "CMM", " X"):
            with self.assertRaises(ValueError, msg=text):
                from_roman(text)


if __name__ == "__main__":
    unittest.main()

import unittest

from duration import format_duration, parse_duration


class HiddenDurationTest(unittest.TestCase):
    def test_any_whitespace(self):
        self.assertEqual(parse_duration("1h  30m"), 5400)
        self.assertEqual(parse_duration("2m\t10s"), 130)
        self.assertEqual(parse_duration(" 1d\n2h "), 93600)

    def test_single_spaces_still_work(self):
        self.assertEqual(parse_duration("2d 4h 1m 1s"), 2 * 86400 + 4 * 3600 + 61)

    def test_still_refused(self):
        for text in ("1x", "h", "1h 30", "ten m"):
            with self.assertRaises(ValueError, msg=text):
                parse_duration(text)

    def test_round_trip(self):
        for seconds in (1, 59, 61, 3600, 5400, 93784):
            self.assertEqual(parse_duration(format_duration(seconds)), seconds)


if __name__ == "__main__":
    unittest.main()

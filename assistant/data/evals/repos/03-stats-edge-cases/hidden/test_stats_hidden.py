import unittest

from stats import mean, median, spread


class HiddenStatsTest(unittest.TestCase):
    def test_median_even(self):
        self.assertEqual(median([1, 2, 3, 4]), 2.5)
        self.assertEqual(median([10, 2, 4, 8]), 6)
        self.assertEqual(median([5, 5]), 5)

    def test_median_odd(self):
        self.assertEqual(median([7]), 7)
        self.assertEqual(median([9, 1, 5, 3, 7]), 5)

    def test_empty(self):
        for function in (mean, median, spread):
            with self.assertRaises(ValueError) as caught:
                function([])
            self.assertEqual(str(caught.exception), "no data")

    def test_mean(self):
        self.assertEqual(mean([1, 2, 3, 4]), 2.5)


if __name__ == "__main__":
    unittest.main()

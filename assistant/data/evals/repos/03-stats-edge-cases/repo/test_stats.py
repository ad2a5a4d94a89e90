import unittest

from stats import mean, median, spread


class StatsTest(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(mean([1, 2, 3]), 2)

    def test_median_odd(self):
        self.assertEqual(median([3, 1, 2]), 2)

    def test_spread(self):
        self.assertEqual(spread([4, 9, 1]), 8)


if __name__ == "__main__":
    unittest.main()

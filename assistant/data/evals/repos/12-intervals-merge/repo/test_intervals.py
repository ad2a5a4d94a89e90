import unittest

from intervals import merge


class IntervalsTest(unittest.TestCase):
    def test_overlapping(self):
        self.assertEqual(merge([(1, 3), (2, 6), (8, 9)]), [(1, 6), (8, 9)])

    def test_unsorted(self):
        self.assertEqual(merge([(5, 7), (1, 3), (2, 4)]), [(1, 4), (5, 7)])

    def test_bad_interval(self):
        with self.assertRaises(ValueError):
            merge([(3, 1)])


if __name__ == "__main__":
    unittest.main()

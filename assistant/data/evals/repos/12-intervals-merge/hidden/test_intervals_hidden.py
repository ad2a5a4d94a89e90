import unittest

from intervals import merge, total_length


class HiddenIntervalsTest(unittest.TestCase):
    def test_unsorted(self):
        self.assertEqual(merge([(5, 7), (1, 3), (2, 4)]), [(1, 4), (5, 7)])
        self.assertEqual(merge([(10, 12), (0, 0), (3, 4)]), [(0, 0), (3, 4), (10, 12)])

    def test_touching(self):
        self.assertEqual(merge([(1, 2), (2, 3)]), [(1, 3)])
        self.assertEqual(merge([(4, 4), (1, 4)]), [(1, 4)])

    def test_contained(self):
        self.assertEqual(merge([(1, 10), (2, 3), (4, 5)]), [(1, 10)])

    def test_empty(self):
        self.assertEqual(merge([]), [])

    def test_total_length(self):
        self.assertEqual(total_length([(5, 7), (1, 3), (2, 4)]), 7)

    def test_bad_interval(self):
        with self.assertRaises(ValueError):
            merge([(1, 2), (3, 1)])


if __name__ == "__main__":
    unittest.main()

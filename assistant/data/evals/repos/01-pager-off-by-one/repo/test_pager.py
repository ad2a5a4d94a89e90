import unittest

from pager import page_count, paginate


class PagerTest(unittest.TestCase):
    def test_page_count(self):
        self.assertEqual(page_count(list(range(25)), 10), 3)
        self.assertEqual(page_count([], 10), 1)

    def test_first_page(self):
        self.assertEqual(paginate(list(range(25)), 1, 10), list(range(10)))

    def test_page_zero_is_refused(self):
        with self.assertRaises(ValueError):
            paginate([1, 2, 3], 0)


if __name__ == "__main__":
    unittest.main()

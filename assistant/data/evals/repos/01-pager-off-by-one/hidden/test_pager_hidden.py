import unittest

from pager import page_count, paginate


class HiddenPagerTest(unittest.TestCase):
    def test_every_page(self):
        items = list(range(25))
        self.assertEqual(paginate(items, 1, 10), list(range(10)))
        self.assertEqual(paginate(items, 2, 10), list(range(10, 20)))
        self.assertEqual(paginate(items, 3, 10), [20, 21, 22, 23, 24])
        self.assertEqual(paginate(items, 4, 10), [])

    def test_pages_cover_the_list_once(self):
        items = list("abcdefg")
        pages = [paginate(items, n, 3) for n in range(1, page_count(items, 3) + 1)]
        self.assertEqual([item for page in pages for item in page], items)

    def test_default_page_size(self):
        self.assertEqual(paginate(list(range(15)), 1), list(range(10)))

    def test_page_zero_is_refused(self):
        with self.assertRaises(ValueError):
            paginate([1, 2, 3], 0)


if __name__ == "__main__":
    unittest.main()

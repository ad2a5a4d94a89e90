import unittest

from text_utils import slugify, title_case, truncate


class TextUtilsTest(unittest.TestCase):
    def test_title_case(self):
        self.assertEqual(title_case("the lord of the rings"), "The Lord of the Rings")

    def test_truncate(self):
        self.assertEqual(truncate("abcdef", 4), "abc…")
        self.assertEqual(truncate("abc", 4), "abc")

    def test_slugify(self):
        self.assertEqual(slugify("Hello, World!"), "hello-world")
        self.assertEqual(slugify("  Python 3.12 -- what's new  "), "python-3-12-what-s-new")


if __name__ == "__main__":
    unittest.main()

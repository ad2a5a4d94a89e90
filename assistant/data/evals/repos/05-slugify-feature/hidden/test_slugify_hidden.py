import unittest

from text_utils import slugify, title_case


class HiddenSlugifyTest(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(slugify("Hello, World!"), "hello-world")
        self.assertEqual(slugify("  Python 3.12 -- what's new  "), "python-3-12-what-s-new")

    def test_already_a_slug(self):
        self.assertEqual(slugify("already-a-slug"), "already-a-slug")

    def test_nothing_left(self):
        self.assertEqual(slugify("!!!"), "")
        self.assertEqual(slugify(""), "")

    def test_non_ascii_is_a_separator(self):
        self.assertEqual(slugify("café au lait"), "caf-au-lait")

    def test_title_case_still_works(self):
        self.assertEqual(title_case("a tale of two cities"), "A Tale of Two Cities")


if __name__ == "__main__":
    unittest.main()

import unittest

from tree import depth, find, load, names

MENU = '{"name": "Menu", "children": [{"name": "File", "children": [{"name": "Open"}]}, {"name": "Help"}]}'


class TreeTest(unittest.TestCase):
    def test_names(self):
        self.assertEqual(names(load(MENU)), ["Menu", "Menu/File", "Menu/File/Open", "Menu/Help"])

    def test_depth(self):
        self.assertEqual(depth(load(MENU)), 3)

    def test_find(self):
        self.assertEqual(find(load(MENU), "Menu/File/Open")["name"], "Open")
        self.assertIsNone(find(load(MENU), "Menu/Edit"))


if __name__ == "__main__":
    unittest.main()

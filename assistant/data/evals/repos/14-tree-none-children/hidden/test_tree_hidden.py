import unittest

from tree import depth, find, load, names

MENU = """{"name": "Menu", "children": [
  {"name": "File", "children": [
    {"name": "Open", "children": [{"name": "Recent", "children": null}]},
    {"name": "Save", "children": null}
  ]},
  {"name": "Help"}
]}"""


class HiddenTreeTest(unittest.TestCase):
    def test_names(self):
        self.assertEqual(names(load(MENU)), ["Menu", "Menu/File", "Menu/File/Open", "Menu/File/Open/Recent",
                                             "Menu/File/Save", "Menu/Help"])

    def test_depth(self):
        self.assertEqual(depth(load(MENU)), 4)
        self.assertEqual(depth({"name": "leaf", "children": None}), 1)

    def test_find(self):
        menu = load(MENU)
        self.assertEqual(find(menu, "Menu/File/Save")["name"], "Save")
        self.assertIsNone(find(menu, "Menu/File/Save/Nothing"))
        self.assertIsNone(find(menu, "Menu/File/Open/Recent/Deeper"))

    def test_empty_list_still_works(self):
        self.assertEqual(names({"name": "a", "children": []}), ["a"])


if __name__ == "__main__":
    unittest.main()

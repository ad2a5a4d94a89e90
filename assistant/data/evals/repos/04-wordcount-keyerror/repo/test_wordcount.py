import unittest

from wordcount import most_common


class WordcountTest(unittest.TestCase):
    def test_most_common(self):
        self.assertEqual(most_common({"a": 1, "b": 3, "c": 1}), [("b", 3), ("a", 1), ("c", 1)])

    def test_most_common_n(self):
        self.assertEqual(most_common({"a": 1, "b": 3}, 1), [("b", 3)])


if __name__ == "__main__":
    unittest.main()

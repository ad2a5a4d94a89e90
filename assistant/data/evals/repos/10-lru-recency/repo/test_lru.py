import unittest

from lru import LRUCache
from memo import memoize


class LRUTest(unittest.TestCase):
    def test_evicts_the_oldest(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.put("c", 3)
        self.assertNotIn("a", cache)
        self.assertEqual(len(cache), 2)

    def test_get_keeps_an_entry(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.get("a")
        cache.put("c", 3)
        self.assertIn("a", cache)
        self.assertNotIn("b", cache)

    def test_memoize(self):
        calls = []

        @memoize(2)
        def square(n):
            calls.append(n)
            return n * n

        self.assertEqual([square(2), square(2)], [4, 4])
        self.assertEqual(calls, [2])


if __name__ == "__main__":
    unittest.main()

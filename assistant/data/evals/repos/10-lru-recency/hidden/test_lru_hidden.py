import unittest

from lru import LRUCache
from memo import memoize


class HiddenLRUTest(unittest.TestCase):
    def test_get_refreshes(self):
        cache = LRUCache(3)
        for key in "abc":
            cache.put(key, key.upper())
        self.assertEqual(cache.get("a"), "A")
        self.assertEqual(cache.get("b"), "B")
        cache.put("d", "D")
        self.assertEqual([k for k in "abcd" if k in cache], ["a", "b", "d"])

    def test_a_miss_changes_nothing(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        cache.put("b", 2)
        self.assertIsNone(cache.get("zzz"))
        cache.put("c", 3)
        self.assertNotIn("a", cache)
        self.assertEqual((cache.hits, cache.misses), (0, 1))

    def test_put_refreshes(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.put("a", 10)
        cache.put("c", 3)
        self.assertEqual(cache.get("a"), 10)
        self.assertNotIn("b", cache)

    def test_memoized_results_stay_while_used(self):
        calls = []

        @memoize(2)
        def double(n):
            calls.append(n)
            return 2 * n

        double(1)
        double(2)
        double(1)
        double(3)
        double(1)
        self.assertEqual(calls, [1, 2, 3])


if __name__ == "__main__":
    unittest.main()

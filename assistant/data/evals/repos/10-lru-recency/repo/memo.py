"""A decorator that keeps a function's recent results in an LRUCache."""

import functools

from lru import MISSING, LRUCache


def memoize(capacity=128):
    def decorate(function):
        cache = LRUCache(capacity)

        @functools.wraps(function)
        def wrapper(*args):
            value = cache.get(args, MISSING)
            if value is MISSING:
                value = function(*args)
                cache.put(args, value)
            return value

        wrapper.cache = cache
        return wrapper

    return decorate

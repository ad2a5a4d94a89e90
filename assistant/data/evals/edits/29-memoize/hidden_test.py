from fibonacci import fib

assert hasattr(fib, "cache_info"), "fib is not cached"  # before fib(90): uncached, it would never end
assert fib(10) == 55
assert fib(90) == 2880067194370816120

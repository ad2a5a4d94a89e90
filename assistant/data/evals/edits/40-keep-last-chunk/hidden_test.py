from batching import chunks

assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
assert chunks([1, 2], 2) == [[1, 2]]
assert chunks([1], 3) == [[1]]
assert chunks([], 3) == []

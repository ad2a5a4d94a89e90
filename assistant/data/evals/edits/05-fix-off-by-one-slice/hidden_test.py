from sequences import last_n

assert last_n([1, 2, 3], 2) == [2, 3], last_n([1, 2, 3], 2)
assert last_n([1, 2, 3], 1) == [3]
assert last_n([1, 2, 3], 3) == [1, 2, 3]
assert last_n([1, 2, 3], 5) == [1, 2, 3]
assert last_n([1, 2, 3], 0) == []

from extremes import largest

assert largest([]) is None
assert largest([3, 9, 2]) == 9
assert largest([-5]) == -5

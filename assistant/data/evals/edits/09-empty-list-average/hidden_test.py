from averages import average

assert average([]) == 0.0
assert average([1, 2]) == 1.5
assert average([5]) == 5

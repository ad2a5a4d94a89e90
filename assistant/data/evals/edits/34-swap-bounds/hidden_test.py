from clamping import clamp

assert clamp(5, 10, 0) == 5
assert clamp(-1, 10, 0) == 0
assert clamp(11, 10, 0) == 10
assert clamp(5, 0, 10) == 5
assert clamp(-3, 0, 10) == 0

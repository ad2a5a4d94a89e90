from conversions import to_int

assert to_int("12") == 12
assert to_int("x") is None
try:
    to_int(None)
except TypeError:
    pass
else:
    raise AssertionError("to_int(None) raised no TypeError")

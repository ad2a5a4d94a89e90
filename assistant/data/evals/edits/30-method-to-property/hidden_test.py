from shapes import Rectangle, total_area

assert isinstance(Rectangle.__dict__.get("area"), property), "area is not a property"
assert not hasattr(Rectangle, "get_area"), "get_area is still there"
r = Rectangle(2, 3)
assert r.area == 6
try:
    r.area = 5
except AttributeError:
    pass
else:
    raise AssertionError("area can be set")
assert total_area([Rectangle(1, 1), Rectangle(2, 2)]) == 5

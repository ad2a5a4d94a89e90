import dataclasses

from points import Point

assert dataclasses.is_dataclass(Point), "Point is not a dataclass"
assert [f.name for f in dataclasses.fields(Point)] == ["x", "y"]
assert Point(1, 2) == Point(1, 2)
assert Point(0, 0).distance_to(Point(3, 4)) == 5.0

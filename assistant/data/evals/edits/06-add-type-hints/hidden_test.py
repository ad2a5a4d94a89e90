import inspect
import math

import geometry

for function in (geometry.circle_area, geometry.scale):
    signature = inspect.signature(function)
    for name, parameter in signature.parameters.items():
        assert parameter.annotation is not inspect.Parameter.empty, f"{function.__name__}: {name} has no type hint"
    assert signature.return_annotation is not inspect.Signature.empty, f"{function.__name__} has no return type"
assert geometry.circle_area(1) == math.pi
assert geometry.circle_area(0) == 0
assert geometry.scale([(1, 2), (3, 4)], 2) == [(2, 4), (6, 8)]

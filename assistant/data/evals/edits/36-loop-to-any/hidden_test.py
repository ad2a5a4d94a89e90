import ast

import permissions

assert permissions.has_admin([{"role": "user"}, {"role": "admin"}]) is True
assert permissions.has_admin([{"role": "user"}, {}]) is False
assert permissions.has_admin([]) is False
with open(permissions.__file__, encoding="utf-8") as file:
    nodes = list(ast.walk(ast.parse(file.read())))
assert not any(isinstance(n, ast.For) for n in nodes), "has_admin still has a for loop"
assert any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "any" for n in nodes), "has_admin does not call any"

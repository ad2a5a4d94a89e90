import ast

import shipping

assert shipping.shipping_cost(50) == 0, "an order of 50 ships free"
assert shipping.shipping_cost(80, express=True) == 0
assert shipping.shipping_cost(10) == 5
assert shipping.shipping_cost(49.99, express=True) == 15
with open(shipping.__file__, encoding="utf-8") as file:
    ifs = [n for n in ast.walk(ast.parse(file.read())) if isinstance(n, ast.If)]
nested = [inner for outer in ifs for n in outer.body for inner in ast.walk(n) if isinstance(inner, ast.If)]
assert not nested, "the ifs are still nested"

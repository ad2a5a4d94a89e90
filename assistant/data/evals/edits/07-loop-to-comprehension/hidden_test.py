import ast

import evens

assert evens.squares_of_evens([1, 2, 3, 4]) == [4, 16]
assert evens.squares_of_evens([]) == []
assert evens.squares_of_evens([-2, 7]) == [4]
with open(evens.__file__, encoding="utf-8") as file:
    tree = ast.parse(file.read())
(function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "squares_of_evens"]
nodes = list(ast.walk(function))
assert not any(isinstance(n, ast.For) for n in nodes), "squares_of_evens still has a for loop"
assert any(isinstance(n, ast.ListComp) for n in nodes), "squares_of_evens has no list comprehension"

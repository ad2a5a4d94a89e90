import ast

import listing

assert listing.numbered(["a", "b"]) == ["1. a", "2. b"]
assert listing.numbered([]) == []
with open(listing.__file__, encoding="utf-8") as file:
    tree = ast.parse(file.read())
called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
assert "enumerate" in called, "numbered does not use enumerate"
assert "range" not in called, "numbered still uses range"

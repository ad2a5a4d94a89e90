import ast

import labels

assert labels.label("box", 3) == "box: 3 item(s)"
assert labels.price_tag(2.5) == "$2.50"
assert labels.price_tag(10) == "$10.00"
with open(labels.__file__, encoding="utf-8") as file:
    tree = ast.parse(file.read())
nodes = list(ast.walk(tree))
assert not any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) for n in nodes), "% formatting is left"
assert sum(isinstance(n, ast.JoinedStr) for n in nodes) >= 2, "no f-strings"

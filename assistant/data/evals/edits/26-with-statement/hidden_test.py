import ast

import settings_file

with open("settings.ini", "w", encoding="utf-8") as out:
    out.write("# comment\nname = demo\n\nsize=3\n")
assert settings_file.read_settings("settings.ini") == {"name": "demo", "size": "3"}
with open(settings_file.__file__, encoding="utf-8") as source:
    tree = ast.parse(source.read())
nodes = list(ast.walk(tree))
assert any(isinstance(n, ast.With) for n in nodes), "read_settings has no with statement"
closes = [n for n in nodes if isinstance(n, ast.Attribute) and n.attr == "close"]
assert not closes, "the file is still closed by hand"

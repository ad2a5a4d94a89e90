from csv_line import parse_line

assert parse_line("a, b ,c") == ["a", "b", "c"]
assert parse_line("x,y\n") == ["x", "y"]
assert parse_line(" one ") == ["one"]

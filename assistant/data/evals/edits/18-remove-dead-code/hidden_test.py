import parsing

assert not hasattr(parsing, "_old_parse_pair"), "_old_parse_pair is still there"
assert parsing.parse_pair(" a = b=c ") == ("a", "b=c")
assert parsing.parse_pairs(["x=1", "", "y = 2"]) == {"x": "1", "y": "2"}

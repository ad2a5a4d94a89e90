from joiner import human_join

assert human_join(["a", "b", "c"]) == "a, b and c"
assert human_join(["a", "b"], last_sep=" or ") == "a or b"
assert human_join(["a", "b", "c"], " & ") == "a, b & c"
assert human_join(["x"]) == "x" and human_join([]) == ""

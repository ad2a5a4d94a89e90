from names import normalize

assert normalize(None) == ""
assert normalize("  ada   lovelace ") == "Ada Lovelace"
assert normalize("") == ""

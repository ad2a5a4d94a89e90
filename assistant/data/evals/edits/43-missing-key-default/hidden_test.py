from inventory import in_stock

assert in_stock("apple") is True
assert in_stock("pear") is False
assert in_stock("plum") is False

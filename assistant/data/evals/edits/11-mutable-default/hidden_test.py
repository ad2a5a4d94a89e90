from bags import add_item

assert add_item(1) == [1]
assert add_item(2) == [2], "the default list is shared between calls"
mine = [0]
assert add_item(1, mine) is mine and mine == [0, 1]

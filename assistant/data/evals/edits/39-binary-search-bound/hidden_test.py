from searching import binary_search

for items in ([1], [1, 3], [1, 3, 5], [2, 4, 6, 8, 10, 12, 14]):
    for index, value in enumerate(items):
        assert binary_search(items, value) == index, f"binary_search({items}, {value}) is not {index}"
    assert binary_search(items, 0) == -1 and binary_search(items, 100) == -1
assert binary_search([], 1) == -1

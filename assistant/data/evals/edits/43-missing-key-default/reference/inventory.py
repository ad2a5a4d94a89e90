STOCK = {"apple": 3, "pear": 0}


def in_stock(item):
    return STOCK.get(item, 0) > 0

def add_item(item, bag=[]):
    bag.append(item)
    return bag

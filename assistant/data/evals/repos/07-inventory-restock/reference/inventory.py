"""A shop's stock: items by name, each with a quantity and a unit price."""

from item import Item


class OutOfStock(Exception):
    pass


class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, quantity, price=None):
        """`quantity` more of `name`; a new item needs its price."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        if name in self.items:
            self.items[name].quantity += quantity
        elif price is None:
            raise ValueError(f"{name} is new: give its price")
        else:
            self.items[name] = Item(name, quantity, price)

    def remove(self, name, quantity):
        item = self.items.get(name)
        if item is None or item.quantity < quantity:
            raise OutOfStock(name)
        item.quantity -= quantity

    def restock(self, threshold, amount):
        """`amount` more of every item with fewer than `threshold`; their names, sorted."""
        if threshold < 1 or amount < 1:
            raise ValueError("threshold and amount must be at least 1")
        low = sorted(name for name, item in self.items.items() if item.quantity < threshold)
        for name in low:
            self.items[name].quantity += amount
        return low

    def quantity(self, name):
        item = self.items.get(name)
        return item.quantity if item else 0

    def value(self):
        """What the whole stock is worth."""
        return sum(item.quantity * item.price for item in self.items.values())

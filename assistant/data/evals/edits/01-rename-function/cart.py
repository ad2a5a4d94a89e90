"""A shopping cart's arithmetic."""


def calc(items):
    """The total price of (price, quantity) pairs."""
    total = 0
    for price, quantity in items:
        total += price * quantity
    return total


def receipt(items):
    return f"Total: {calc(items):.2f}"

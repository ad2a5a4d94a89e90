"""A shopping cart's arithmetic."""


def cart_total(items):
    """The total price of (price, quantity) pairs."""
    total = 0
    for price, quantity in items:
        total += price * quantity
    return total


def receipt(items):
    return f"Total: {cart_total(items):.2f}"

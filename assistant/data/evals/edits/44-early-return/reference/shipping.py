def shipping_cost(total, express=False):
    """Shipping for an order of `total`: free from 50 or more, else 5 (express: 15)."""
    if total >= 50:
        return 0
    if express:
        return 15
    return 5

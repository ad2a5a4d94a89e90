def shipping_cost(total, express=False):
    """Shipping for an order of `total`: free from 50 or more, else 5 (express: 15)."""
    if total < 50 or total == 50:
        if express:
            return 15
        else:
            return 5
    else:
        return 0

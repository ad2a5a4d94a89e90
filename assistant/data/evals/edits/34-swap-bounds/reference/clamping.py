def clamp(value, low, high):
    """`value` held between `low` and `high`, given in either order."""
    if low > high:
        low, high = high, low
    return max(low, min(value, high))

def clamp(value, low, high):
    """`value` held between `low` and `high`."""
    return max(low, min(value, high))

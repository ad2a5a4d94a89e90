"""Summary statistics of a list of numbers."""


def mean(values):
    return sum(values) / len(values)


def median(values):
    if not values:
        raise ValueError("no data")
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def spread(values):
    """The largest value less the smallest."""
    if not values:
        raise ValueError("no data")
    return max(values) - min(values)

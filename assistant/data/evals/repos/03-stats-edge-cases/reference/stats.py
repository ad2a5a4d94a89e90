"""Summary statistics of a list of numbers."""


def mean(values):
    if not values:
        raise ValueError("no data")
    return sum(values) / len(values)


def median(values):
    if not values:
        raise ValueError("no data")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2 == 0:
        return (ordered[middle - 1] + ordered[middle]) / 2
    return ordered[middle]


def spread(values):
    """The largest value less the smallest."""
    if not values:
        raise ValueError("no data")
    return max(values) - min(values)

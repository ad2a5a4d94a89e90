def mean(values):
    """The arithmetic mean of `values`."""
    return sum(values) / len(values)


def report(scores):
    """One line about a list of scores."""
    average = mean(scores)
    spread = max(scores) - min(scores)
    return f"average {average:.1f}, spread {spread}"

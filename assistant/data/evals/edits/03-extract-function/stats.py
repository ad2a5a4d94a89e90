def report(scores):
    """One line about a list of scores."""
    average = sum(scores) / len(scores)
    spread = max(scores) - min(scores)
    return f"average {average:.1f}, spread {spread}"

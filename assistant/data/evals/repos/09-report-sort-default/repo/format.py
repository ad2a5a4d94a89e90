"""The summary as a table for the terminal."""


def table(summary):
    width = max((len(category) for category, _ in summary), default=8)
    lines = [f"{'category':<{width}}  {'total':>10}"]
    lines += [f"{category:<{width}}  {total:>10.2f}" for category, total in summary]
    return "\n".join(lines)

"""Closed intervals (start, end) of integers, start <= end."""


def merge(intervals):
    """The union of `intervals` as the fewest intervals, sorted."""
    for start, end in intervals:
        if start > end:
            raise ValueError(f"not an interval: {(start, end)}")
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def total_length(intervals):
    """How many integers the intervals cover (each counted once)."""
    return sum(end - start + 1 for start, end in merge(intervals))

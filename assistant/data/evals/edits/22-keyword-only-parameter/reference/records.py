def sort_records(records, *, reverse=False):
    """`records` (dicts with a "name") sorted by name; descending when `reverse`."""
    return sorted(records, key=lambda r: r["name"], reverse=reverse)

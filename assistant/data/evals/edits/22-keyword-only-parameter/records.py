def sort_records(records):
    """`records` (dicts with a "name") sorted by name."""
    return sorted(records, key=lambda r: r["name"])

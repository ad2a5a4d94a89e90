"""Expenses read from CSV (date,category,amount) and summed per category."""

import csv
import io


def read_expenses(text):
    """(category, amount) of every row of the CSV `text` (its header row first)."""
    rows = csv.DictReader(io.StringIO(text))
    return [(row["category"].strip(), float(row["amount"])) for row in rows]


def summarize(expenses, sort_by=None):
    """[(category, total)]: by total, largest first (ties by name), unless `sort_by` is "name"
    (alphabetical) or "total" (the default's order)."""
    totals = {}
    for category, amount in expenses:
        totals[category] = totals.get(category, 0.0) + amount
    if sort_by not in (None, "name", "total"):
        raise ValueError(f"cannot sort by {sort_by!r}")
    if sort_by == "total":
        return sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))
    return sorted(totals.items())

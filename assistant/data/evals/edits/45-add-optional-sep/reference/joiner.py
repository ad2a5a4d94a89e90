def human_join(items, last_sep=" and "):
    """`["a", "b", "c"]` as "a, b and c"."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + last_sep + items[-1]

def flatten(items):
    """The items of `items`, with nested lists opened."""
    out = []
    for item in items:
        if isinstance(item, list):
            out.extend(flatten(item))
        else:
            out.append(item)
    return out

def last_n(items, n):
    """The last `n` items of `items`, in order."""
    if n <= 0:
        return []
    return items[-n:]

def to_int(text):
    """`text` as an int, or None when it does not hold one."""
    try:
        return int(text)
    except ValueError:
        return None

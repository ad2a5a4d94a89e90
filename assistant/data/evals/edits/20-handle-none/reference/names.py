def normalize(name):
    """`name` with single spaces, each word capitalised."""
    if name is None:
        return ""
    return " ".join(name.split()).title()

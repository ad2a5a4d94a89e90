def normalize(name):
    """`name` with single spaces, each word capitalised."""
    return " ".join(name.split()).title()

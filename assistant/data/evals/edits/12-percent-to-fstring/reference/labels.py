def label(name, count):
    return f"{name}: {count:d} item(s)"


def price_tag(amount):
    return f"${amount:.2f}"

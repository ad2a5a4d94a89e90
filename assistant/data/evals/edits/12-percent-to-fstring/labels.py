def label(name, count):
    return "%s: %d item(s)" % (name, count)


def price_tag(amount):
    return "$%.2f" % amount

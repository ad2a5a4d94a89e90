def price_with_tax(net):
    return round(net * 1.2, 2)


def tax_of(net):
    return round(net * 0.2, 2)

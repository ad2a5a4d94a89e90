TAX_RATE = 0.2


def price_with_tax(net):
    return round(net * (1 + TAX_RATE), 2)


def tax_of(net):
    return round(net * TAX_RATE, 2)

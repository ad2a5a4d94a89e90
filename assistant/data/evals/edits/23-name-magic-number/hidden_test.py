import pricing

assert pricing.TAX_RATE == 0.2
assert pricing.price_with_tax(10) == 12.0
assert pricing.tax_of(10) == 2.0
pricing.TAX_RATE = 0.5
assert pricing.price_with_tax(10) == 15.0, "price_with_tax does not use TAX_RATE"
assert pricing.tax_of(10) == 5.0, "tax_of does not use TAX_RATE"

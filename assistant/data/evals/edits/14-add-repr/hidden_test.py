from money import Money

assert repr(Money(12.5, "EUR")) == "Money(12.5, 'EUR')", repr(Money(12.5, "EUR"))
assert repr(Money(3, "USD")) == "Money(3, 'USD')"
assert repr(Money(1, "EUR").add(Money(2, "EUR"))) == "Money(3, 'EUR')"

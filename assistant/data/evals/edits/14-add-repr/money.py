class Money:
    def __init__(self, amount, currency):
        self.amount = amount
        self.currency = currency

    def add(self, other):
        if other.currency != self.currency:
            raise ValueError("different currencies")
        return Money(self.amount + other.amount, self.currency)

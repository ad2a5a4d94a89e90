class InsufficientFunds(Exception):
    """A payment larger than the balance."""


class Wallet:
    def __init__(self, balance=0):
        self.balance = balance

    def pay(self, amount):
        if amount > self.balance:
            raise InsufficientFunds(f"cannot pay {amount} out of {self.balance}")
        self.balance -= amount

class Wallet:
    def __init__(self, balance=0):
        self.balance = balance

    def pay(self, amount):
        if amount > self.balance:
            return False
        self.balance -= amount
        return True

class Account:
    def __init__(self, balance=0):
        self.balance = balance

    def dep(self, amount):
        self.balance += amount

    def wd(self, amount):
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount


def transfer(source, target, amount):
    source.wd(amount)
    target.dep(amount)

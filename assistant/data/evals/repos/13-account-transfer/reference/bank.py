"""Bank accounts: a balance in cents, and the history of what changed it."""

from errors import AccountClosed, InsufficientFunds, InvalidAmount


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        self.history = []  # (kind, amount) in the order they happened
        self.closed = False

    def _check(self, amount):
        if self.closed:
            raise AccountClosed(self.owner)
        if not isinstance(amount, int) or amount <= 0:
            raise InvalidAmount(amount)

    def deposit(self, amount):
        self._check(amount)
        self.balance += amount
        self.history.append(("deposit", amount))

    def withdraw(self, amount):
        self._check(amount)
        if amount > self.balance:
            raise InsufficientFunds(f"{self.owner} has {self.balance}, not {amount}")
        self.balance -= amount
        self.history.append(("withdraw", amount))

    def transfer(self, other, amount):
        """`amount` from this account to `other`, or (an error) nothing at all."""
        if other is self:
            raise ValueError("a transfer needs two accounts")
        other._check(amount)  # before the withdrawal: a refused deposit leaves both as they were
        self.withdraw(amount)
        other.deposit(amount)

    def close(self):
        self.closed = True

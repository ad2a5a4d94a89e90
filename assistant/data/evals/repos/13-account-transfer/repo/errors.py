class BankError(Exception):
    pass


class AccountClosed(BankError):
    pass


class InsufficientFunds(BankError):
    pass


class InvalidAmount(BankError):
    pass

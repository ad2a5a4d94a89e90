from accounts import Account, transfer

for old in ("dep", "wd"):
    assert not hasattr(Account, old), f"Account.{old} is still there"
a, b = Account(10), Account()
a.deposit(5)
a.withdraw(3)
assert a.balance == 12
transfer(a, b, 2)
assert (a.balance, b.balance) == (10, 2)

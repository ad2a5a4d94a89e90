import wallet

assert issubclass(wallet.InsufficientFunds, Exception)
w = wallet.Wallet(5)
assert w.pay(3) is None
assert w.balance == 2
try:
    w.pay(10)
except wallet.InsufficientFunds:
    pass
else:
    raise AssertionError("pay(10) raised nothing")
assert w.balance == 2

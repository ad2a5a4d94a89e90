import unittest

from bank import Account
from errors import AccountClosed, InsufficientFunds


class BankTest(unittest.TestCase):
    def test_deposit_and_withdraw(self):
        account = Account("ann", 100)
        account.deposit(50)
        account.withdraw(30)
        self.assertEqual(account.balance, 120)
        self.assertEqual(account.history, [("deposit", 50), ("withdraw", 30)])

    def test_overdraw(self):
        with self.assertRaises(InsufficientFunds):
            Account("ann", 10).withdraw(11)

    def test_closed(self):
        account = Account("ann", 10)
        account.close()
        with self.assertRaises(AccountClosed):
            account.deposit(1)


if __name__ == "__main__":
    unittest.main()

import unittest

from bank import Account
from errors import AccountClosed, InsufficientFunds, InvalidAmount


def state(*accounts):
    return [(a.balance, list(a.history)) for a in accounts]


class HiddenTransferTest(unittest.TestCase):
    def test_transfer(self):
        ann, bob = Account("ann", 100), Account("bob", 5)
        ann.transfer(bob, 40)
        self.assertEqual((ann.balance, bob.balance), (60, 45))
        self.assertEqual(ann.history[-1][1], 40)
        self.assertEqual(bob.history[-1][1], 40)
        self.assertEqual((len(ann.history), len(bob.history)), (1, 1))

    def test_whole_balance(self):
        ann, bob = Account("ann", 100), Account("bob")
        ann.transfer(bob, 100)
        self.assertEqual((ann.balance, bob.balance), (0, 100))

    def test_refusals_change_nothing(self):
        cases = [
            (lambda ann, bob: ann.transfer(bob, 101), InsufficientFunds),
            (lambda ann, bob: ann.transfer(bob, 0), InvalidAmount),
            (lambda ann, bob: ann.transfer(bob, -5), InvalidAmount),
            (lambda ann, bob: ann.transfer(ann, 10), ValueError),
        ]
        for attempt, error in cases:
            ann, bob = Account("ann", 100), Account("bob", 5)
            with self.assertRaises(error):
                attempt(ann, bob)
            self.assertEqual(state(ann, bob), [(100, []), (5, [])])

    def test_closed_other_account(self):
        ann, bob = Account("ann", 100), Account("bob", 5)
        bob.close()
        with self.assertRaises(AccountClosed):
            ann.transfer(bob, 10)
        self.assertEqual(state(ann, bob), [(100, []), (5, [])])

    def test_closed_own_account(self):
        ann, bob = Account("ann", 100), Account("bob", 5)
        ann.close()
        with self.assertRaises(AccountClosed):
            ann.transfer(bob, 10)
        self.assertEqual(state(ann, bob), [(100, []), (5, [])])


if __name__ == "__main__":
    unittest.main()

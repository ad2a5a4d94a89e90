import unittest

from inventory import Inventory


def shop():
    stock = Inventory()
    stock.add("pen", 2, 1.0)
    stock.add("ink", 5, 3.0)
    stock.add("book", 1, 9.0)
    stock.add("bag", 7, 20.0)
    return stock


class HiddenRestockTest(unittest.TestCase):
    def test_restock_below_threshold(self):
        stock = shop()
        self.assertEqual(stock.restock(5, 10), ["book", "pen"])
        self.assertEqual(stock.quantity("pen"), 12)
        self.assertEqual(stock.quantity("book"), 11)
        self.assertEqual(stock.quantity("ink"), 5)
        self.assertEqual(stock.quantity("bag"), 7)

    def test_nothing_to_restock(self):
        stock = shop()
        self.assertEqual(stock.restock(1, 10), [])
        self.assertEqual(stock.value(), 2 * 1.0 + 5 * 3.0 + 9.0 + 7 * 20.0)

    def test_bad_arguments_change_nothing(self):
        for threshold, amount in ((0, 5), (5, 0), (-1, 3), (3, -2)):
            stock = shop()
            with self.assertRaises(ValueError):
                stock.restock(threshold, amount)
            self.assertEqual([stock.quantity(n) for n in ("pen", "ink", "book", "bag")], [2, 5, 1, 7])


if __name__ == "__main__":
    unittest.main()

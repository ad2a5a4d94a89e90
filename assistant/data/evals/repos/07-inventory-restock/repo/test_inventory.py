import unittest

from inventory import Inventory, OutOfStock


class InventoryTest(unittest.TestCase):
    def test_add_and_remove(self):
        stock = Inventory()
        stock.add("pen", 10, 1.5)
        stock.remove("pen", 4)
        self.assertEqual(stock.quantity("pen"), 6)
        self.assertEqual(stock.value(), 9.0)

    def test_out_of_stock(self):
        stock = Inventory()
        stock.add("pen", 1, 1.5)
        with self.assertRaises(OutOfStock):
            stock.remove("pen", 2)


if __name__ == "__main__":
    unittest.main()

import unittest

from format import table
from report import summarize


class HiddenReportTest(unittest.TestCase):
    expenses = (("b", 5.0), ("a", 5.0), ("c", 1.0), ("d", 9.0), ("c", 3.5))

    def test_default_is_by_total(self):
        self.assertEqual(summarize(self.expenses), [("d", 9.0), ("a", 5.0), ("b", 5.0), ("c", 4.5)])

    def test_explicit_orders(self):
        self.assertEqual(summarize(self.expenses, "total"), summarize(self.expenses))
        self.assertEqual([c for c, _ in summarize(self.expenses, "name")], ["a", "b", "c", "d"])

    def test_unknown_order(self):
        with self.assertRaises(ValueError):
            summarize(self.expenses, "date")

    def test_table(self):
        self.assertEqual(table(summarize([("x", 2.0)])).splitlines()[1].split(), ["x", "2.00"])


if __name__ == "__main__":
    unittest.main()

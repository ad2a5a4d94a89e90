import unittest

from report import read_expenses, summarize

CSV = """date,category,amount
2024-01-02,food,12.50
2024-01-03,rent,800
2024-01-05,food,30
2024-01-09,books,42
"""


class ReportTest(unittest.TestCase):
    def test_read(self):
        self.assertEqual(read_expenses(CSV)[0], ("food", 12.5))

    def test_by_name(self):
        self.assertEqual([c for c, _ in summarize(read_expenses(CSV), "name")], ["books", "food", "rent"])

    def test_default_order(self):
        self.assertEqual([c for c, _ in summarize(read_expenses(CSV))], ["rent", "food", "books"])


if __name__ == "__main__":
    unittest.main()

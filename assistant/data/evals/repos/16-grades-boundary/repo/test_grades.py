import unittest

from grades import distribution, letter


class GradesTest(unittest.TestCase):
    def test_letters(self):
        self.assertEqual(letter(95), "A")
        self.assertEqual(letter(85.5), "B")
        self.assertEqual(letter(12), "F")

    def test_distribution(self):
        self.assertEqual(distribution([95, 85, 51]), {"A": 1, "B": 1, "C": 0, "D": 0, "F": 1})


if __name__ == "__main__":
    unittest.main()

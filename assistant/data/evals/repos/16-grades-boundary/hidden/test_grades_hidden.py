import unittest

from grades import distribution, letter


class HiddenGradesTest(unittest.TestCase):
    def test_boundaries(self):
        expected = {100: "A", 90: "A", 89.5: "B", 80: "B", 79: "C", 70: "C", 69.5: "D", 60: "D", 59.5: "F", 0: "F"}
        for score, grade in expected.items():
            self.assertEqual(letter(score), grade, score)

    def test_out_of_range(self):
        for score in (-1, -0.5, 100.5, 105):
            with self.assertRaises(ValueError, msg=score):
                letter(score)

    def test_distribution(self):
        self.assertEqual(distribution([90, 80, 70, 60, 59]), {"A": 1, "B": 1, "C": 1, "D": 1, "F": 1})
        with self.assertRaises(ValueError):
            distribution([50, 101])


if __name__ == "__main__":
    unittest.main()

import contextlib
import io
import os
import tempfile
import unittest

from wordcount import count_words, main


class HiddenWordcountTest(unittest.TestCase):
    def test_count_words(self):
        self.assertEqual(count_words("The cat, the hat. THE end"), {"the": 3, "cat": 1, "hat": 1, "end": 1})
        self.assertEqual(count_words(""), {})

    def test_main_prints_counts(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "words.txt")
            with open(path, "w", encoding="utf-8") as file:
                file.write("b a b\nc b a\n")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main([path])
        self.assertEqual(code, 0)
        self.assertEqual(out.getvalue().splitlines(), ["b 3", "a 2", "c 1"])


if __name__ == "__main__":
    unittest.main()

import contextlib
import io
import os
import tempfile
import unittest

from todo import main


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(list(argv))
    return out.getvalue().splitlines()


class HiddenTodoTest(unittest.TestCase):
    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.file = os.path.join(folder.name, "todo.txt")
        for text in ("one", "two", "three", "four"):
            run("--file", self.file, "add", text)

    def test_limit(self):
        self.assertEqual(run("--file", self.file, "list", "--limit", "2"), ["1. one", "2. two"])

    def test_limit_counts_printed_tasks(self):
        run("--file", self.file, "done", "1")
        self.assertEqual(run("--file", self.file, "list", "--limit", "2"), ["2. two", "3. three"])
        self.assertEqual(run("--file", self.file, "list", "--all", "--limit", "2"), ["1. [x] one", "2. two"])

    def test_limit_zero_and_large(self):
        self.assertEqual(run("--file", self.file, "list", "--limit", "0"), [])
        self.assertEqual(len(run("--file", self.file, "list", "--limit", "10")), 4)

    def test_no_limit(self):
        self.assertEqual(len(run("--file", self.file, "list")), 4)

    def test_negative_limit_is_a_usage_error(self):
        with self.assertRaises(SystemExit) as caught:
            run("--file", self.file, "list", "--limit", "-1")
        self.assertEqual(caught.exception.code, 2)

    def test_not_a_number_is_a_usage_error(self):
        with self.assertRaises(SystemExit) as caught:
            run("--file", self.file, "list", "--limit", "many")
        self.assertEqual(caught.exception.code, 2)


if __name__ == "__main__":
    unittest.main()

import contextlib
import io
import os
import tempfile
import unittest

from todo import main


def run(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(list(argv))
    return out.getvalue().splitlines()


class TodoTest(unittest.TestCase):
    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.file = os.path.join(folder.name, "todo.txt")

    def test_add_and_list(self):
        run("--file", self.file, "add", "buy milk")
        run("--file", self.file, "add", "write report")
        self.assertEqual(run("--file", self.file, "list"), ["1. buy milk", "2. write report"])

    def test_done(self):
        run("--file", self.file, "add", "buy milk")
        run("--file", self.file, "done", "1")
        self.assertEqual(run("--file", self.file, "list"), [])
        self.assertEqual(run("--file", self.file, "list", "--all"), ["1. [x] buy milk"])


if __name__ == "__main__":
    unittest.main()

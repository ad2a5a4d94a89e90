import contextlib
import io
import os
import tempfile
import unittest

from logtool.cli import main

LOG = """2024-05-01 12:00:01 DEBUG cache warm
2024-05-01 12:00:02 INFO started
2024-05-01 12:00:03 WARNING disk almost full
not a record
2024-05-01 12:00:04 ERROR disk full
2024-05-01 12:00:05 INFO disk cleaned
"""


class HiddenLevelTest(unittest.TestCase):
    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.log = os.path.join(folder.name, "app.log")
        with open(self.log, "w", encoding="utf-8") as file:
            file.write(LOG)

    def run_cli(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main([self.log, *argv])
        return [line.split(" ", 3)[2] for line in out.getvalue().splitlines()]

    def test_levels(self):
        self.assertEqual(self.run_cli("--level", "WARNING"), ["WARNING", "ERROR"])
        self.assertEqual(self.run_cli("--level", "INFO"), ["INFO", "WARNING", "ERROR", "INFO"])
        self.assertEqual(self.run_cli("--level", "ERROR"), ["ERROR"])
        self.assertEqual(len(self.run_cli("--level", "DEBUG")), 5)

    def test_any_case(self):
        self.assertEqual(self.run_cli("--level", "warning"), ["WARNING", "ERROR"])
        self.assertEqual(self.run_cli("--level", "Error"), ["ERROR"])

    def test_with_grep(self):
        self.assertEqual(self.run_cli("--level", "info", "--grep", "disk"), ["WARNING", "ERROR", "INFO"])

    def test_no_level(self):
        self.assertEqual(len(self.run_cli()), 5)

    def test_unknown_level(self):
        with self.assertRaises(SystemExit) as caught:
            self.run_cli("--level", "LOUD")
        self.assertEqual(caught.exception.code, 2)


if __name__ == "__main__":
    unittest.main()

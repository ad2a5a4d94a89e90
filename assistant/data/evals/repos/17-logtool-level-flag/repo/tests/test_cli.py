import contextlib
import io
import os
import tempfile
import unittest

from logtool.cli import main
from logtool.records import parse_line

LOG = """2024-05-01 12:00:01 DEBUG cache warm
2024-05-01 12:00:02 INFO started
2024-05-01 12:00:03 WARNING disk almost full
not a record
2024-05-01 12:00:04 ERROR disk full
"""


class CliTest(unittest.TestCase):
    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.log = os.path.join(folder.name, "app.log")
        with open(self.log, "w", encoding="utf-8") as file:
            file.write(LOG)

    def run_cli(self, *argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main([self.log, *argv])
        return out.getvalue().splitlines()

    def test_every_record(self):
        self.assertEqual(len(self.run_cli()), 4)

    def test_grep(self):
        self.assertEqual(self.run_cli("--grep", "disk"), ["2024-05-01 12:00:03 WARNING disk almost full",
                                                          "2024-05-01 12:00:04 ERROR disk full"])

    def test_parse_line(self):
        self.assertIsNone(parse_line("nothing here"))
        self.assertEqual(parse_line(LOG.splitlines()[1]).level, "INFO")


if __name__ == "__main__":
    unittest.main()

"""What proving an edit costs: the syntax check, and the project's tests run on a
scratch copy against the same tests run in place.

- syntax: `syntax.introduced` on a 2,000-line Python file and its edited version
  (tree-sitter and `compile`), median of --runs; target < 50 ms.
- checks: `checks.run_checks` with `test_cmd` set (the copy, the unchanged run,
  the edit, the edited run) against the test suite's own two runs in place
  (the same command, run twice in the project, as the checks do); a project of
  that file and a 50-test pytest suite in a real git repository. Interleaved,
  median of --runs; target: checks / suite <= 1.2.

Exits 1 when a target is missed.

    python bench/edit_checks.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from assistant.core.config import Config
from assistant.core.edits.checks import run_checks
from assistant.core.edits.syntax import introduced
from assistant.core.edits.types import FileChange

SYNTAX_TARGET_S = 0.050
RATIO_TARGET = 1.2
PYTEST = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"


def project(root: Path) -> str:
    lines = []
    for i in range(400):  # 5 lines each: 2,000 lines
        lines += [f"def f{i}(a, b):", f"    '''Function {i}.'''", f"    total = (a + b) * {i}", "    return total", ""]
    source = "\n".join(lines) + "\n"
    tests = ["from mod import *", ""] + [f"def test_{i}():\n    assert f{i}(1, 2) == 3 * {i}\n" for i in range(50)]
    root.mkdir(parents=True)
    (root / "mod.py").write_text(source)
    (root / "test_mod.py").write_text("\n".join(tests))
    for args in (["init", "-q"], ["add", "."], ["-c", "user.email=b@x", "-c", "user.name=b", "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_HOME"] = str(Path(tmp) / "home")
        root = Path(tmp) / "proj"
        source = project(root)
        edited = source.replace("total = (a + b) * 7\n", "total = (b + a) * 7\n", 1)
        change = FileChange("mod.py", source, edited)

        introduced("mod.py", source, edited)  # the grammar loads once per process
        syntax = []
        for _ in range(args.runs):
            start = time.perf_counter()
            assert introduced("mod.py", source, edited) == ()
            syntax.append(time.perf_counter() - start)

        config = Config().edits
        config = replace(config, test_cmd=PYTEST, check_timeout=120)
        suite, checks = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            for _ in range(2):  # the checks run the suite twice: unchanged, then edited
                subprocess.run(PYTEST, shell=True, cwd=root, capture_output=True, check=True)
            suite.append(time.perf_counter() - start)
            start = time.perf_counter()
            [outcome] = run_checks(root, [change], config, threading.Event())
            checks.append(time.perf_counter() - start)
            assert outcome.status == "passed", outcome
    s, a, b = statistics.median(syntax), statistics.median(suite), statistics.median(checks)
    ratio = b / a
    ok_syntax, ok_ratio = s < SYNTAX_TARGET_S, ratio <= RATIO_TARGET
    print(f"syntax check, 2,000-line Python file: {s * 1000:6.1f} ms   target < {SYNTAX_TARGET_S * 1000:.0f} ms   "
          f"{'ok' if ok_syntax else 'MISSED'}")
    print(f"the suite's own two runs (50 tests):  {a * 1000:6.0f} ms   runs {[round(x * 1000) for x in suite]}")
    print(f"checks on a scratch copy:             {b * 1000:6.0f} ms   runs {[round(x * 1000) for x in checks]}")
    print(f"checks / suite = {ratio:.2f}   target <= {RATIO_TARGET}   {'ok' if ok_ratio else 'MISSED'}")
    return 0 if ok_syntax and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())

"""The project's own checks on a proposed edit, before the user sees it: the lint
and test commands of `[edits]`, run on a scratch copy of the project with the edit
applied, never on the user's files.

The same commands run first on the unchanged copy, so a check that failed already
is not blamed on the edit: the criterion is "what passed before still passes".
A run is stopped at `check_timeout` or when the user cancels, its whole process
group killed. The copy lives under the data folder's `scratch/`, named by the
process that made it; one whose process is gone (a SIGKILL) is removed at the
next start.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.core.config import EditsConfig
from assistant.core.edits.files import apply_changes
from assistant.core.edits.types import FileChange
from assistant.core.paths import Paths
from assistant.core.store.records import PASSING_CHECKS

Status = Literal["passed", "failed", "timed out", "could not run", "failed before", "cancelled"]
OUTPUT_LINES = 20  # of a failing check's output, the first lines (the model is told them)...
TAIL_LINES = 5  # ... and the last ones (where pytest and linters sum up: the review shows them)
SCRATCH = "scratch"
RUNNING = "check.pgid"  # in a scratch copy's folder while a check runs: its process group
SKIP = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    name: str  # "lint" or "tests"
    status: Status
    seconds: float
    output: str = ""  # its output's first and last lines (failed, timed out), or why it could not run

    @property
    def passed(self) -> bool:
        """Passed, or failed already before the edit (not the edit's fault)."""
        return self.status in PASSING_CHECKS

    def line(self) -> str:
        """One line for the review: `tests: failed (1.2 s)`."""
        return f"{self.name}: {self.status} ({self.seconds:.1f} s)"

    def summary_lines(self, n: int) -> list[str]:
        """The last `n` lines of its output that say something: where a test runner
        or a linter sums up (`FAILED test_calc.py::test_add - assert 1 == 5`). An
        indented line goes on the one above it (pytest under `CI=1` writes a failed
        assertion's explanation below its summary line), so those come first."""
        said = [line for line in self.output.splitlines() if line.strip() and line != "…"]
        heads = [line for line in said if not line[0].isspace()]
        return (heads or said)[-n:]


def configured(config: EditsConfig) -> list[tuple[str, str]]:
    """(name, command) of the checks set in `[edits]`, in the order they run."""
    return [(name, cmd) for name, cmd in (("lint", config.lint_cmd), ("tests", config.test_cmd)) if cmd.strip()]


def run_checks(
    root: Path,
    changes: Sequence[FileChange],
    config: EditsConfig,
    cancel: threading.Event,
    *,
    paths: Paths | None = None,
) -> tuple[CheckOutcome, ...]:
    """Each configured check on a scratch copy of `root`: first unchanged, then with
    `changes` applied. () when none is configured."""
    checks = configured(config)
    if not checks:
        return ()
    files = [c.path for c in changes]
    outcomes: list[CheckOutcome] = []
    with scratch_copy(root, paths or Paths.resolve()) as copy:
        before = {name: _run(name, cmd, files, copy, config.check_timeout, cancel) for name, cmd in checks}
        _apply(copy, changes)
        for name, cmd in checks:
            earlier = before[name]
            if earlier.status in ("could not run", "cancelled"):
                outcomes.append(earlier)
                continue
            after = _run(name, cmd, files, copy, config.check_timeout, cancel)
            if after.status in ("failed", "timed out") and earlier.status in ("failed", "timed out"):
                after = CheckOutcome(name, "failed before", after.seconds, after.output)
            outcomes.append(after)
    return tuple(outcomes)


def repair_message(outcomes: Sequence[CheckOutcome]) -> str:
    """What the model is told, once, when its edit makes a check fail."""
    parts = ["Your edit makes the project's checks fail (they passed before it):"]
    for o in outcomes:
        if not o.passed:
            parts.append(f"- {o.line()}\n{o.output}")
    parts.append("Send all the edits again, corrected, in the same format.")
    return "\n\n".join(parts)


# -- the scratch copy ------------------------------------------------------------------


@contextlib.contextmanager
def scratch_copy(root: Path, paths: Paths) -> Iterator[Path]:
    """A copy of the project's files (what git tracks and the untracked ones it does
    not ignore; outside git, every file but tool caches), removed on any exit."""
    base = paths.data_dir / SCRATCH
    base.mkdir(parents=True, exist_ok=True)
    holder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
    try:
        copy = holder / root.name
        copy.mkdir()
        for relative in _project_files(root):
            source, target = root / relative, copy / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # a file that vanished while copying
                shutil.copy2(source, target, follow_symlinks=False)
        yield copy
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def cleanup_scratch(paths: Paths) -> list[Path]:
    """Remove the scratch copies of processes that are gone (killed mid-check)."""
    base = paths.data_dir / SCRATCH
    removed = []
    if not base.is_dir():
        return removed
    for entry in base.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _kill_orphan(entry)
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _kill_orphan(entry: Path) -> None:
    """A check still running from a killed process (its own session survived it):
    its process group is killed, if its leader still works inside this copy."""
    try:
        pgid = int((entry / RUNNING).read_text())
        inside = os.path.realpath(f"/proc/{pgid}/cwd").startswith(os.path.realpath(entry))
    except (OSError, ValueError):
        return
    if inside:  # a reused process id is someone else's: never killed
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _project_files(root: Path) -> list[str]:
    if (root / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=False,
        )
        if listed.returncode == 0:
            names = [n for n in listed.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
            return [n for n in names if (root / n).is_file() or (root / n).is_symlink()]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP]
        found += [os.path.relpath(os.path.join(folder, f), root) for f in files]
    return found


def _apply(copy: Path, changes: Sequence[FileChange]) -> None:
    """The edit written into the copy as it would be into the project: the same
    faithful bytes (encoding, BOM, line endings)."""
    apply_changes(copy, list(changes), max_bytes=2**31)


# -- one run ---------------------------------------------------------------------------


def _run(name: str, template: str, files: Sequence[str], cwd: Path, timeout: float, cancel: threading.Event) -> CheckOutcome:
    command = template.replace("{files}", " ".join(shlex.quote(f) for f in files))
    start = time.monotonic()
    if cancel.is_set():
        return CheckOutcome(name, "cancelled", 0.0)
    try:
        proc = subprocess.Popen(
            command, shell=True, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError as exc:
        return CheckOutcome(name, "could not run", 0.0, f"{command}: {exc.strerror or exc}")
    running = cwd.parent / RUNNING  # for the next start, should this process be killed
    with contextlib.suppress(OSError):
        running.write_text(str(proc.pid))
    try:
        return _wait(name, command, proc, start, timeout, cancel)
    finally:
        with contextlib.suppress(OSError):
            running.unlink()


def _wait(
    name: str, command: str, proc: subprocess.Popen[bytes], start: float, timeout: float, cancel: threading.Event
) -> CheckOutcome:
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.append(proc.stdout.read() if proc.stdout else b""), daemon=True)
    reader.start()
    status: Status | None = None
    while proc.poll() is None:
        if cancel.is_set():
            status = "cancelled"
        elif time.monotonic() - start > timeout:
            status = "timed out"
        if status is not None:
            _kill_group(proc)
            break
        time.sleep(0.02)
    proc.wait()
    reader.join(timeout=5)
    seconds = time.monotonic() - start
    text = b"".join(output).decode("utf-8", "replace")
    lines = text.splitlines()
    if len(lines) > OUTPUT_LINES + TAIL_LINES:
        lines = [*lines[:OUTPUT_LINES], "…", *lines[-TAIL_LINES:]]
    kept = "\n".join(lines)
    if status is not None:
        return CheckOutcome(name, status, seconds, kept)
    if proc.returncode == 127:  # the shell found no such command
        return CheckOutcome(name, "could not run", seconds, kept.splitlines()[-1] if kept else f"{command}: not found")
    return CheckOutcome(name, "passed" if proc.returncode == 0 else "failed", seconds, "" if proc.returncode == 0 else kept)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """The command and every process it started."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

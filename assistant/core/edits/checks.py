"""The project's own checks on a proposed edit: the lint and test commands of
`[edits]`, run on a scratch copy of the project with the edit applied, never on
the user's files; by default only once the user has accepted the diff (`[edits]
checks`, read in refactor.py).

The same commands run first on the unchanged copy, so a check that failed already
is not blamed on the edit: the criterion is "what passed before still passes".
The commands execute code the model wrote, so they run through core/sandbox.py:
an allow-listed environment (plus `check_env`), the `check_*` limits, stopped at
`check_timeout` or when the user cancels with every process they started. The
copy lives under the data folder's `scratch/`, named by the process that made it;
one whose process is gone (a SIGKILL) is removed at the next start, with anything
its checks left running.

An absolute symlink that leads into the project is re-pointed, relative, to the
same place in the copy, so the edit applies there exactly when it applies to the
project; one that leads outside stays as it is (and is refused as it would be).
A copy that cannot be made (a full disk) makes each check "could not run", with
the reason.

Which checks: `[edits] lint_cmd` and `test_cmd` as set; "auto" (the default) is
what the project's files show (core/edits/project_checks.py), "" is none. A found
check whose tool is not installed, or a linter none of whose files changed, is
"not run", with why: said in the review, not held against the edit. The project's
`node_modules` (which git ignores) is linked into the copy, so that its test
runner and linter are there.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from assistant.core import sandbox
from assistant.core.config import EditsConfig
from assistant.core.edits.files import apply_changes
from assistant.core.edits.project_checks import LINT, TESTS, ProjectCheck, find_checks
from assistant.core.edits.types import EditError, FileChange
from assistant.core.paths import Paths
from assistant.core.store.records import PASSING_CHECKS
from assistant.core.text import named

Status = Literal["passed", "failed", "timed out", "could not run", "failed before", "cancelled", "not run"]
AUTO = "auto"  # `[edits] lint_cmd` / `test_cmd`: what the project's files show
OUTPUT_LINES = 20  # of a failing check's output, the first lines (the model is told them)...
TAIL_LINES = 5  # ... and the last ones (where pytest and linters sum up: the review shows them)
SCRATCH = "scratch"
RUNNING = "check.pgid"  # in a scratch copy's folder while a check runs: its supervisor's process group
# The "before" run and the edited one may fall in the same second: Python would take
# the first run's bytecode (checked by mtime in seconds and size) for a same-size edit.
CHECK_ENV = {"PYTHONDONTWRITEBYTECODE": "1"}
LINKED = ("node_modules",)  # dependencies git ignores, linked into the copy rather than copied
SKIP = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    name: str  # "lint" or "tests"
    status: Status
    seconds: float
    output: str = ""  # its output's first and last lines (failed, timed out), or why it could not run / did not
    why: str = ""  # the check's `why`: what it is and what found it ("pytest, found: tests/")

    @property
    def passed(self) -> bool:
        """Passed, failed already before the edit, or could not run here (a tool not
        installed): none of them the edit's fault."""
        return self.status in PASSING_CHECKS or self.status == "not run"

    def line(self) -> str:
        """One line for the review: `tests (pytest, found: tests/): failed (1.2 s)`;
        one that did not run says why instead of its time."""
        name = f"{self.name} ({self.why})" if self.why else self.name
        if self.status == "not run":
            return f"{name}: not run: {self.output}"
        return f"{name}: {self.status} ({self.seconds:.1f} s)"

    def summary_lines(self, n: int) -> list[str]:
        """The last `n` lines of its output that say something: where a test runner
        or a linter sums up (`FAILED test_calc.py::test_add - assert 1 == 5`). An
        indented line goes on the one above it (pytest under `CI=1` writes a failed
        assertion's explanation below its summary line), so those come first."""
        said = [line for line in self.output.splitlines() if line.strip() and line != "…"]
        heads = [line for line in said if not line[0].isspace()]
        return (heads or said)[-n:]


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """The checks an edit gets, in the order they run, and, when none of them is the
    tests, why ("no tests found")."""

    checks: tuple[ProjectCheck, ...] = ()
    no_tests: str = ""

    @property
    def runnable(self) -> tuple[ProjectCheck, ...]:
        """Those that can run on this machine."""
        return tuple(c for c in self.checks if not c.missing)


def configured(config: EditsConfig, root: Path) -> CheckPlan:
    """The checks of `[edits]` for the project at `root`: each command as set, found
    in the project when "auto", none when empty."""
    settings = ((LINT, "lint_cmd", config.lint_cmd.strip()), (TESTS, "test_cmd", config.test_cmd.strip()))
    auto = [name for name, _, setting in settings if setting == AUTO]
    found = find_checks(root, sandbox.environment(config.check_env), wanted=auto) if auto else []
    checks: list[ProjectCheck] = []
    no_tests = ""
    for name, key, setting in settings:
        if setting == AUTO:
            mine = [c for c in found if c.name == name]
            checks += mine
            no_tests = "no tests found" if name == TESTS and not mine else no_tests
        elif setting:
            checks.append(ProjectCheck(name, setting))
        elif name == TESTS:
            no_tests = f'tests turned off ([edits] {key} = "")'
    return CheckPlan(tuple(checks), no_tests)


def run_checks(
    root: Path,
    changes: Sequence[FileChange],
    config: EditsConfig,
    cancel: threading.Event,
    *,
    paths: Paths | None = None,
    plan: CheckPlan | None = None,
) -> tuple[CheckOutcome, ...]:
    """Each check of `plan` (else of `[edits]`) on a scratch copy of `root`: first
    unchanged, then with `changes` applied. () when there is none."""
    plan = configured(config, root) if plan is None else plan
    if not plan.checks:
        return ()
    files = [c.path for c in changes]
    skipped = {c.name: why for c in plan.checks if (why := _why_not(c, files))}
    ready = [c for c in plan.checks if c.name not in skipped]
    ran: dict[str, CheckOutcome] = {}
    if ready:
        try:
            with scratch_copy(root, paths or Paths.resolve()) as copy:
                ran = _before_and_after(copy, changes, ready, config, cancel)
        except ScratchError as exc:  # the copy could not be made: the edit is not to blame
            ran = {c.name: CheckOutcome(c.name, "could not run", 0.0, str(exc), c.why) for c in ready}
    return tuple(ran.get(c.name) or CheckOutcome(c.name, "not run", 0.0, skipped[c.name], c.why) for c in plan.checks)


def check_in_place(
    root: Path, files: Sequence[str], config: EditsConfig, cancel: threading.Event, plan: CheckPlan | None = None
) -> tuple[CheckOutcome, ...]:
    """Each check of `plan` (else of `[edits]`) on the project itself, as it is now: a
    task's end, whose changes its own commands have already run against. `files`: what
    the task changed (for a check's `{files}`). () when there is none."""
    plan = configured(config, root) if plan is None else plan
    outcomes = []
    for check in plan.checks:
        why = _why_not(check, files)
        outcomes.append(CheckOutcome(check.name, "not run", 0.0, why, check.why) if why
                        else _run(check, files, root, config, cancel, in_place=True))  # fmt: skip
    return tuple(outcomes)


def _why_not(check: ProjectCheck, files: Sequence[str]) -> str:
    """Why `check` does not run on an edit of `files` ("" when it does)."""
    if check.missing:
        return check.missing
    if "{files}" in check.command and not any(check.reads(f) for f in files):
        return "no changed file it reads"
    return ""


def _before_and_after(
    copy: Path, changes: Sequence[FileChange], checks: list[ProjectCheck], config: EditsConfig,
    cancel: threading.Event,
) -> dict[str, CheckOutcome]:
    files = [c.path for c in changes]
    before = {check.name: _run(check, files, copy, config, cancel) for check in checks}
    _apply(copy, changes)
    outcomes: dict[str, CheckOutcome] = {}
    for check in checks:
        earlier = before[check.name]
        if earlier.status in ("could not run", "cancelled"):
            outcomes[check.name] = earlier
            continue
        after = _run(check, files, copy, config, cancel)
        if after.status in ("failed", "timed out") and earlier.status in ("failed", "timed out"):
            after = replace(after, status="failed before")
        outcomes[check.name] = after
    return outcomes


def repair_message(outcomes: Sequence[CheckOutcome]) -> str:
    """What the model is told, once, when its edit makes a check fail."""
    parts = ["Your edit makes the project's checks fail (they passed before it):"]
    for o in outcomes:
        if not o.passed:
            parts.append(f"- {o.line()}\n{o.output}")
    parts.append("Send all the edits again, corrected, in the same format.")
    return "\n\n".join(parts)


# -- the scratch copy ------------------------------------------------------------------


class ScratchError(EditError):
    """The scratch copy could not be made (a full disk, no permission): one line, the true reason."""


@contextlib.contextmanager
def scratch_copy(root: Path, paths: Paths) -> Iterator[Path]:
    """A copy of the project's files (what git tracks and the untracked ones it does
    not ignore; outside git, every file but tool caches), removed on any exit."""
    base = paths.data_dir / SCRATCH
    try:
        base.mkdir(parents=True, exist_ok=True)
        holder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
    except OSError as exc:
        raise ScratchError(f"the checks' scratch copy cannot be made in {base}: {exc.strerror or exc}") from None
    try:
        copy = holder / root.name
        _fill(root, copy)
        yield copy
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _fill(root: Path, copy: Path) -> None:
    real_root = Path(os.path.realpath(root))
    try:
        copy.mkdir()
    except OSError as exc:
        raise ScratchError(f"the checks' scratch copy cannot be made in {copy}: {exc.strerror or exc}") from None
    for relative in _project_files(root):
        try:
            _copy_one(root / relative, copy / relative, real_root, copy)
        except FileNotFoundError:  # a file that vanished while copying
            continue
        except OSError as exc:  # a full disk, say: never a silently partial copy
            raise ScratchError(f"the checks' scratch copy cannot be made: {named(relative)}: {exc.strerror or exc}") \
                from None
    for name in LINKED:
        if (root / name).is_dir() and not os.path.lexists(copy / name):
            with contextlib.suppress(OSError):  # without it, the check says what it misses
                os.symlink(root.resolve() / name, copy / name)


def _copy_one(source: Path, target: Path, real_root: Path, copy: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not source.is_symlink():
        shutil.copy2(source, target)
        return
    link = os.readlink(source)
    if os.path.isabs(link):
        real = Path(os.path.realpath(source))
        if real.is_relative_to(real_root):  # into the project: the same place in the copy
            link = os.path.relpath(copy / real.relative_to(real_root), target.parent)
    os.symlink(link, target)


def cleanup_scratch(paths: Paths) -> list[Path]:
    """Remove the scratch copies of processes that are gone (killed mid-check), and
    end whatever their checks left running."""
    base = paths.data_dir / SCRATCH
    removed = []
    if not base.is_dir():
        return removed
    for entry in base.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            sandbox.sweep(entry.name)  # each of its runs was tagged with the folder's name
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


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
            names = [n for n in names if "__pycache__" not in n.split("/")]  # bytecode of other sources
            return [n for n in names if (root / n).is_file() or (root / n).is_symlink()]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP]
        linked = [d for d in dirs if os.path.islink(os.path.join(folder, d))]  # os.walk does not enter them
        found += [os.path.relpath(os.path.join(folder, f), root) for f in [*files, *linked]]
    return found


def _apply(copy: Path, changes: Sequence[FileChange]) -> None:
    """The edit written into the copy as it would be into the project: the same
    faithful bytes (encoding, BOM, line endings)."""
    apply_changes(copy, list(changes), max_bytes=2**31)


# -- one run ---------------------------------------------------------------------------


def _run(check: ProjectCheck, files: Sequence[str], cwd: Path, config: EditsConfig, cancel: threading.Event,
         *, in_place: bool = False) -> CheckOutcome:  # fmt: skip
    """One check in `cwd`: a scratch copy (its folder keeps the pid and the temp files,
    for the next start to clean), or with `in_place` the project itself."""
    name, why = check.name, check.why
    command = check.command.replace("{files}", " ".join(shlex.quote(f) for f in files if check.reads(f)))
    running = None if in_place else cwd.parent / RUNNING  # for the next start, should this process be killed

    def started(pid: int) -> None:
        with contextlib.suppress(OSError):
            if running is not None:
                running.write_text(str(pid))

    try:
        result = sandbox.run(
            command, cwd, timeout=config.check_timeout, cancel=cancel, limits=limits(config),
            pass_env=config.check_env, set_env=CHECK_ENV, scratch=None if in_place else cwd.parent,
            tag="" if in_place else cwd.parent.name, on_start=started, head=OUTPUT_LINES, tail=TAIL_LINES,
        )
    finally:
        with contextlib.suppress(OSError):
            if running is not None:
                running.unlink()
    if result.status in ("timed out", "cancelled"):
        return CheckOutcome(name, result.status, result.seconds, result.output, why)
    if result.status == "could not start":
        return CheckOutcome(name, "could not run", result.seconds, result.output, why)
    if result.exit_code == 127:  # the shell found no such command
        said = result.output.splitlines()
        return CheckOutcome(name, "could not run", result.seconds, said[-1] if said else f"{command}: not found", why)
    passed = result.exit_code == 0
    return CheckOutcome(name, "passed" if passed else "failed", result.seconds, "" if passed else result.output, why)


def limits(config: EditsConfig) -> sandbox.Limits:
    """The `check_*` limits of `[edits]` (CPU: the timeout's worth on every core)."""
    return sandbox.Limits(
        memory_bytes=config.check_memory_mib * sandbox.MIB, file_bytes=config.check_file_mib * sandbox.MIB,
        processes=config.check_processes,
    )

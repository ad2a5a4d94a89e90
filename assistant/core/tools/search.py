"""The tools that find things in the project: `list` (files by glob) and `grep`
(lines by regex).

Both see the project as git does (core/project_files.py: ignored files left out,
and when git is there but cannot say what it ignores, an error rather than a
guess), and neither looks through a symlink that leads out of the project: a
folder named through one is refused, a file that is one is left out.

A pattern with no `/` (`*.py`) matches a name in any folder; one with a `/`
(`src/*.py`, `tests/**/test_*.py`) is anchored at the root; a plain path (`src`,
`src/calc.py`) names that folder, with everything in it, or that file.

`grep` is Python's `re`, searched line by line, so its cost is bounded by what
it reads: files over GREP_FILE_BYTES and binary ones are skipped (and counted),
a line is searched in its first LONG_LINE characters only, a file in which the
whole-text search finds nothing is not split into lines, and the search stops
at GREP_SECONDS or when the task is cancelled (looked at between files and every
CHECK_EVERY lines), saying how far it got. One line that a regex backtracks on
exponentially (`(a+)+$`) is still `re`'s to finish: the caps bound a polynomial
blow-up, but nothing interrupts `re` inside one search.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Callable

from assistant.core.edits.files import BINARY_PROBE
from assistant.core.edits.types import UnsafePath
from assistant.core.globs import is_glob, match_path
from assistant.core.project import within_root
from assistant.core.project_files import project_files
from assistant.core.text import clean_text
from assistant.core.tools.files import below_root
from assistant.core.tools.types import Args, ToolContext, ToolResult

GREP_FILE_BYTES = 2 * 2**20
LONG_LINE = 10_000  # characters of a line searched (a minified file's one line)
SHOWN_CHARS = 300  # of a matching line, shown
GREP_SECONDS = 30.0
CHECK_EVERY = 1000  # lines searched between two looks at the clock and the cancel
# Constructs that can match a line on its own yet not inside the whole text: no prefilter then.
_LINE_ONLY = ("\\A", "\\Z", "(?<", "(?=", "(?!")


def selected(ctx: ToolContext, pattern: str) -> list[str]:
    """The project's files `pattern` names (the module docstring says how), sorted;
    UnsafePath for a pattern that leads out of the project."""
    segments = _segments(ctx, pattern)
    glob_at = next((k for k, segment in enumerate(segments) if is_glob(segment)), len(segments))
    folder = "/".join(segments[:glob_at])
    if glob_at == len(segments) and folder and not os.path.isdir(ctx.root / folder):
        folder = "/".join(segments[: glob_at - 1])  # a file's name: list its folder
    if folder and within_root(ctx.root / folder, ctx.root) is None:
        raise UnsafePath(f"{pattern}: leads outside the project through a symlink")
    files = project_files(ctx.root, folder, strict=True)
    if segments:
        anchored = len(segments) > 1 or glob_at == len(segments)
        files = [f for f in files if match_path(segments, f.split("/"), anchored=anchored, inside=True)]
    hidden = ctx.hidden
    return [f for f in files if (not os.path.islink(ctx.root / f) or within_root(ctx.root / f, ctx.root))
            and not (hidden is not None and hidden(f))]  # fmt: skip


def _segments(ctx: ToolContext, pattern: str) -> list[str]:
    text = pattern.strip()
    if text in ("", ".", "./"):
        return []
    if text.startswith("/"):
        rest = below_root(ctx.root, text)  # UnsafePath when outside
        raise UnsafePath(f"{text}: is absolute; patterns are relative to the project root (write {rest or '.'!r})")
    if "\\" in text:
        raise UnsafePath(f"{pattern}: contains a backslash; write paths with /")
    hidden = next((ch for ch in text if not ch.isprintable()), None)
    if hidden is not None:
        raise UnsafePath(f"{pattern!a}: contains the control or invisible character U+{ord(hidden):04X}")
    segments = [segment for segment in text.split("/") if segment not in ("", ".")]
    if ".." in segments:
        raise UnsafePath(f"{pattern}: has a '..' component, which can lead outside the project")
    return segments


# --- list ---------------------------------------------------------------------------


def list_files(args: Args, ctx: ToolContext) -> ToolResult:
    pattern = args.get("pattern", "")
    files = selected(ctx, pattern)
    if not files:
        what = f"matches {json.dumps(pattern)}" if pattern.strip() else "is in the project"
        return ToolResult(f"No file {what} (files git ignores are left out).", True, "no files")
    cap = ctx.tools.max_results
    shown = [clean_text(f) for f in files[:cap]]
    if len(files) > cap:
        shown.append(f"… and {len(files) - cap:,} more")
    count = f"{len(files):,} file{'s' if len(files) != 1 else ''}"
    return ToolResult("\n".join(shown), True, count)


# --- grep ---------------------------------------------------------------------------


def grep(args: Args, ctx: ToolContext) -> ToolResult:
    pattern, where = args["pattern"], args.get("path", "")
    flags = re.IGNORECASE if args.get("ignore_case", False) else 0
    try:
        regex = re.compile(pattern, flags)
        whole = None if any(c in pattern for c in _LINE_ONLY) else re.compile(pattern, flags | re.MULTILINE)
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        return ToolResult.failed(f"bad regex {json.dumps(pattern)}: {error}")
    files = selected(ctx, where)
    found = _Found(ctx.tools.max_results)
    deadline = time.monotonic() + GREP_SECONDS

    def stop() -> bool:
        return ctx.cancel.is_set() or time.monotonic() > deadline

    done = 0
    for name in files:
        if stop():
            break
        text = _text(ctx, name, found)
        # The whole-text search is the cheap one: a file it finds nothing in is not split into lines.
        skip = text is None or (whole is not None and whole.search(text.replace("\r\n", "\n")) is None)
        if not skip and not found.search(regex, clean_text(name), text or "", stop):
            break
        done += 1
    stopped = ""
    if done < len(files):
        why = "cancelled" if ctx.cancel.is_set() else f"stopped after {GREP_SECONDS:.0f} s"
        stopped = f"{why}, {done:,} of {len(files):,} files searched; give a narrower path"
    return found.result(pattern, len(files), stopped)


def _text(ctx: ToolContext, name: str, found: _Found) -> str | None:
    """The file as text, or None (counted) when it is binary, too big or unreadable."""
    try:
        fd = os.open(ctx.root / name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        found.unreadable += 1
        return None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # a link to a folder inside the project, a FIFO
            return None
        if st.st_size > GREP_FILE_BYTES:
            found.big.append(name)
            return None
        data = file.read(GREP_FILE_BYTES + 1)
    if len(data) > GREP_FILE_BYTES:
        found.big.append(name)
        return None
    if b"\0" in data[:BINARY_PROBE]:
        found.binary += 1
        return None
    return data.decode("utf-8", "replace")


class _Found:
    """The matches of one grep: those shown (up to `cap`) and the count of the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.lines: list[str] = []
        self.matches = 0
        self.files = 0
        self.big: list[str] = []
        self.binary = 0
        self.unreadable = 0
        self.long_lines = 0

    def search(self, regex: re.Pattern[str], name: str, text: str, stop: Callable[[], bool]) -> bool:
        """Count and keep the matches of one file; False when `stop` said to stop first."""
        before = self.matches
        for number, raw in enumerate(text.split("\n"), 1):
            if number % CHECK_EVERY == 0 and stop():
                self.files += self.matches > before
                return False
            line = raw.removesuffix("\r")
            if len(line) > LONG_LINE:
                self.long_lines += 1
                line = line[:LONG_LINE]
            match = regex.search(line)
            if match is None:
                continue
            self.matches += 1
            if len(self.lines) < self.cap:
                self.lines.append(f"{name}:{number}: {_excerpt(line, match)}")
        self.files += self.matches > before
        return True

    def result(self, pattern: str, searched: int, stopped: str) -> ToolResult:
        notes = []
        if self.matches > len(self.lines):
            notes.append(f"… and {self.matches - len(self.lines):,} more matches ({self.matches:,} in all)")
        if stopped:
            notes.append(f"[{stopped}]")
        if self.long_lines:
            notes.append(f"[{self.long_lines:,} lines over {LONG_LINE:,} characters were searched in their start]")
        if self.big:
            names = ", ".join(clean_text(name) for name in self.big[:5]) + (", …" if len(self.big) > 5 else "")
            notes.append(f"[not searched, over {GREP_FILE_BYTES // 2**20} MiB: {names}]")
        if self.binary:
            notes.append(f"[{self.binary:,} binary files skipped]")
        if self.unreadable:
            notes.append(f"[{self.unreadable:,} files could not be opened]")
        if not self.matches:
            said = f"No match for {json.dumps(pattern)} in {searched:,} files."
            return ToolResult(
                "\n".join([said, *notes]), not stopped, "no matches" + (f"; {stopped}" if stopped else "")
            )
        summary = f"{self.matches:,} match{'es' if self.matches != 1 else ''} in {self.files:,} file"
        summary += "s" if self.files != 1 else ""
        return ToolResult("\n".join([*self.lines, *notes]), not stopped, summary + (f"; {stopped}" if stopped else ""))


def _excerpt(line: str, match: re.Match[str]) -> str:
    """The matching line, at most SHOWN_CHARS of it, around the match when it lies far in."""
    line = clean_text(line)
    if len(line) <= SHOWN_CHARS:
        return line
    start = 0 if match.start() < SHOWN_CHARS - 60 else match.start() - 60
    piece = line[start : start + SHOWN_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SHOWN_CHARS < len(line) else "")

"""The tools that read and change the project's files: `read`, `edit`, `write`.

Every path goes through the rules edits already keep (core/edits/files.py):
relative to the project root, no `..`, nothing inside `.git/`, and a symlink that
leads out refused; an absolute path is refused, with the relative name to use when
it lies inside the root. Writing is `apply_changes`,
the one atomic, contained, byte-faithful writer: an edit keeps the file's
encoding, BOM, line endings and final newline.

Two rules keep a model from destroying what it has not seen: `edit` changes only
a file read in this task, and never by replacing the whole of it (the lines that
change are what it quotes); `write` creates new files only.
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant.core.edits.files import apply_changes, normalise, read_file, resolve
from assistant.core.edits.hunks import hunks, split_lines
from assistant.core.edits.plan import PlanError, locate, plan_changes
from assistant.core.edits.types import FileChange, MatchError, SearchReplace, UnsafePath
from assistant.core.project import within_root
from assistant.core.tools.types import Args, ToolContext, ToolResult

READ_FILE_BYTES = 32 * 2**20  # a file `read` opens at all; what the model is shown is `read_max_bytes`
NUMBER_WIDTH = 6  # line numbers as `cat -n` writes them
DIFF_LINES = 40  # an edit's diff up to this long is shown to the model too
WHOLE_FILE = "a whole-file overwrite of an existing file is refused; edit the lines that change"


def project_path(root: Path, typed: str) -> str:
    """The normalised project-relative name of a path a model wrote, or UnsafePath.

    An absolute path is refused even inside `root`, with the relative name to write
    instead: permission rules match the name a call gives (`Tool.subject`, which
    knows no root), so a second spelling of a path would slip past them."""
    text = typed.strip()
    if text.startswith("/"):
        rest = below_root(root, text)
        instead = f"write {rest!r}" if rest else "this is the project folder itself"
        raise UnsafePath(f"{text}: is absolute; paths are relative to the project root ({instead})")
    return normalise(text)


def below_root(root: Path, absolute: str) -> str:
    """What follows `root` (as given or resolved) in the absolute path `absolute` ("" for
    the root itself); UnsafePath when it does not start there."""
    text = absolute.rstrip("/")
    for base in dict.fromkeys((str(root).rstrip("/"), os.path.realpath(root).rstrip("/"))):
        if text == base:
            return ""
        if text.startswith(base + "/"):
            return text[len(base) + 1 :]
    raise UnsafePath(f"{absolute}: is outside the project; paths are relative to its root")


# --- read ---------------------------------------------------------------------------


def read(args: Args, ctx: ToolContext) -> ToolResult:
    name = project_path(ctx.root, args["path"])
    try:
        path = resolve(ctx.root, name)
    except UnsafePath:
        if within_root(ctx.root / name, ctx.root) is not None and os.path.isdir(ctx.root / name):
            return ToolResult.failed(f'{name}: is a folder; `list` with pattern "{name}/*" shows its files')
        raise
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return ToolResult.failed(f"{name}: no such file; `list` shows the project's files")
    if size > READ_FILE_BYTES:
        return ToolResult.refused(f"{name}: {size:,} bytes is over the {READ_FILE_BYTES:,} bytes a read opens")
    current = read_file(ctx.root, name, max_bytes=READ_FILE_BYTES)
    if current is None:  # removed since the stat
        return ToolResult.failed(f"{name}: no such file; `list` shows the project's files")
    ctx.read.add(current.relative)
    lines = split_lines(current.text)
    total = len(lines)
    if total == 0:
        return ToolResult(f"{name} is empty.", True, "empty file")
    start = args.get("start", 1)
    end = min(args.get("end", total), total)
    if start > total:
        return ToolResult.failed(f"{name} has {total} lines; start={start} is past its end")
    if end < start:
        return ToolResult.failed(f"end={end} is before start={start}")
    shown, next_line = _numbered(lines, start, end, ctx.tools.read_max_bytes)
    whole = start == 1 and end == total
    last = next_line - 1 if next_line else end
    summary = f"{total} line{'s' if total != 1 else ''}" if whole and not next_line else f"lines {start}-{last} of {total}"
    if next_line:
        shown.append(f"[cut at line {next_line} of {total}; read again with start={next_line}]")
        summary += ", cut"
    return ToolResult("\n".join(shown), True, summary)


def _numbered(lines: list[str], start: int, end: int, cap: int) -> tuple[list[str], int | None]:
    """Lines `start`..`end` numbered, within `cap` bytes, and the first line left out (None: none).
    A first line over the cap on its own is shown cut, so every read makes progress."""
    out: list[str] = []
    used = 0
    for number in range(start, end + 1):
        text = lines[number - 1].removesuffix("\n").removesuffix("\r")
        line = f"{number:{NUMBER_WIDTH}}\t{text}"
        size = len(line.encode()) + 1
        if used + size > cap:
            if out:
                return out, number
            head = line.encode()[:cap].decode("utf-8", "ignore")
            out.append(f"{head} …[line {number} cut at {cap:,} bytes]")
            return out, number + 1 if number < end else None
        out.append(line)
        used += size
    return out, None


# --- edit ---------------------------------------------------------------------------


def edit(args: Args, ctx: ToolContext) -> ToolResult:
    name = project_path(ctx.root, args["path"])
    if name not in ctx.read:
        return ToolResult.refused(f"{name}: read it first (the `read` tool), then edit it")
    current = read_file(ctx.root, name, max_bytes=ctx.edits.max_file_bytes)
    if current is None:
        return ToolResult.failed(f"{name}: no such file; `write` creates a new file")
    text, old, new = current.text, args["old"], args["new"]
    fuzzy, places = False, 1
    if not old.strip():
        if text.strip():
            return ToolResult.refused(f"{name}: `old` is empty: {WHOLE_FILE}")
        after = new  # an empty file: there is nothing to lose
    elif _is_whole(old, text):
        return ToolResult.refused(f"{name}: `old` is the whole file: {WHOLE_FILE}")
    else:
        replaced = _replace(name, text, old, new, args.get("replace_all", False))
        if isinstance(replaced, ToolResult):
            return replaced
        after, places, fuzzy = replaced
    if after == text:
        return ToolResult.failed(f"{name}: `new` is the same as `old`; nothing was changed")
    change = FileChange(name, text, after)
    if ctx.before_write is not None:
        ctx.before_write(name)
    applied = apply_changes(ctx.root, [change], max_bytes=ctx.edits.max_file_bytes)
    diff = "".join(hunk.diff for hunk in hunks(change))
    added = sum(1 for line in diff.split("\n") if line.startswith("+"))
    removed = sum(1 for line in diff.split("\n") if line.startswith("-"))
    said = f"Edited {name}: +{added} −{removed} lines"
    if places > 1:
        said += f" ({places} places replaced)"
    if fuzzy:
        said += (
            " (`old` matched once each line's leading and trailing spaces were ignored; `new` was re-indented to fit)"
        )
    content = f"{said}\n{diff}" if diff.count("\n") <= DIFF_LINES else f"{said}; read it again to see it"
    return ToolResult(content, True, f"+{added} −{removed} lines", changed=applied.paths, output=f"{said}\n{diff}")


def _is_whole(old: str, text: str) -> bool:
    """`old` quotes all of a file of several lines (a one-line file has nothing else to lose)."""
    whole = text.replace("\r\n", "\n").strip()
    return old.replace("\r\n", "\n").strip() == whole and "\n" in whole


def _replace(name: str, text: str, old: str, new: str, every: bool) -> tuple[str, int, bool] | ToolResult:
    """`text` with `old` replaced by `new` (the new text, how many places, whether only a
    whitespace-blind match found it), or the failed result saying why not."""
    candidates = [(old, new)]
    if "\r\n" in text and "\n" in old and "\r\n" not in old:  # the model writes "\n" in a CRLF file
        crlf = new.replace("\r\n", "\n").replace("\n", "\r\n")
        candidates.insert(0, (old.replace("\n", "\r\n"), crlf))
    for needle, replacement in candidates:
        count = text.count(needle)
        if count == 1 or (count > 1 and every):
            return text.replace(needle, replacement), count, False
        if count > 1:
            return ToolResult.failed(
                f"{name}: `old` is found {count} times; give more context (the lines around it) so it is "
                "found once, or set replace_all"
            )
    # Not verbatim: the planner's whole-line match that ignores spaces at line ends, or its closest lines.
    try:
        start, end, _ = locate(text, old, path=name)
    except MatchError as error:
        if error.kind == "ambiguous":
            return ToolResult.failed(
                f"{name}: `old` is not found as written, and matches {error.count} places once spaces are "
                "ignored; quote it exactly, with more context"
            )
        closest = None
        try:
            plan_changes([SearchReplace(name, old, new)], lambda _: text)
        except PlanError as failed:  # it does: `locate` found no place
            closest = failed.failures[0].closest
        said = f"{name}: `old` is not found (it must match the file exactly, spaces and all)"
        return ToolResult.failed(f"{said}; the lines most like it are:\n{closest}" if closest else said)
    if not _evenly_indented(old, text[start:end]):
        first = text.count("\n", 0, start) + 1
        last = first + text.count("\n", start, end - 1)
        return ToolResult.failed(
            f"{name}: `old` matches lines {first}-{last} only once indentation is ignored, and is indented "
            f"unlike them; quote them exactly:\n{text[start:end]}"
        )
    (change,) = plan_changes([SearchReplace(name, old, new)], lambda _: text)
    return change.after, 1, True


def _evenly_indented(old: str, matched: str) -> bool:
    """Whether `old`'s lines differ from the lines they matched by one same indentation, so
    that shifting `new` by it (as the planner does) keeps the code's structure."""
    shifts: set[tuple[str, str] | None] = set()
    for quoted, found in zip(split_lines(old), split_lines(matched), strict=False):
        if not quoted.strip():
            continue
        ours, theirs = _indent(quoted), _indent(found)
        if theirs.endswith(ours):
            shifts.add(("added", theirs[: len(theirs) - len(ours)]))
        elif ours.endswith(theirs):
            shifts.add(("removed", ours[: len(ours) - len(theirs)]))
        else:
            shifts.add(None)
    return len(shifts) == 1 and None not in shifts


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


# --- write --------------------------------------------------------------------------


def write(args: Args, ctx: ToolContext) -> ToolResult:
    name = project_path(ctx.root, args["path"])
    path = resolve(ctx.root, name)  # outside, a symlink out, a folder: refused here
    if os.path.lexists(path):
        return ToolResult.refused(f"{name} exists: `write` creates new files only; read it, then edit it")
    content = args["content"]
    applied = apply_changes(ctx.root, [FileChange(name, None, content)], max_bytes=ctx.edits.max_file_bytes)
    ctx.read.add(name)  # the model wrote every line of it
    lines = len(split_lines(content))
    said = f"Created {name} ({lines} line{'s' if lines != 1 else ''})"
    return ToolResult(said, True, f"created, {lines} line{'s' if lines != 1 else ''}", changed=applied.paths)

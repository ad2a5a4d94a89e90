"""Model text → typed edits. Pure: no file is read here; `plan` decides whether
the edits fit the files.

The SEARCH/REPLACE format (Aider's), which `prompts` teaches the model::

    path/to/file.py
    <<<<<<< SEARCH
    exact lines to find
    =======
    lines to put instead
    >>>>>>> REPLACE

Tolerant of how models actually write it:
- prose around the blocks, code fences around a block or a file name, a
  language tag line (```python), CRLF line endings;
- the file name as `path`, `` `path` ``, `**path**`, `# path`, `File: path`,
  `- path`, or on the fence line (```python path/to/file.py), found on one of
  the three non-blank lines before the SEARCH marker; a name may hold brackets,
  parentheses, braces, commas… (`app/[id]/page.tsx`), and a space only when it
  is one of the `known_paths` the model was asked about (`docs/my notes.md`), so
  a line of prose never becomes a file name;
- several blocks in a row for one file, naming it only once (a block with no
  name of its own edits the file named last);
- markers of 5 to 9 `<`/`=`/`>` characters, surrounded by spaces or tabs
  (and Aider's old ORIGINAL/UPDATED words for SEARCH/REPLACE).

Strict about meaning: a block that cannot be tied to a file, a SEARCH without
its ======= or REPLACE, a REPLACE without its SEARCH, and an answer with no
block at all are `ParseError`s naming the block, so the model can be told.

The texts are kept exactly: each section is its lines joined by "\\n" with a
final "\\n" (the newline before a marker belongs to the marker line), so an
empty section is "" and a section of one blank line is "\\n". An empty SEARCH
creates the file. The model's CRLF become LF; `plan` converts to the file's.

The whole-file format, for models that handle SEARCH/REPLACE badly: a file
name line (or the name on the fence line), then a fenced block holding the
whole content, once per file. A fence closes with a bare fence of the same
character at least as long as the opening one; fences with an info string
inside the content (a Markdown file's own ```python examples) nest. When they
do not balance, the first bare fence closes it, and the rest of the answer is
read without nesting, so a flood of fences costs linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.core.edits.types import Edit, ParseError, SearchReplace, WholeFile

_HEAD = re.compile(r"^[ \t]*<{5,9}[ \t]*(?:SEARCH|ORIGINAL)[ \t]*$")
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_TAIL = re.compile(r"^[ \t]*>{5,9}[ \t]*(?:REPLACE|UPDATED)[ \t]*$")
# The info string is stripped in code: a lazy group before `[ \t]*$` is quadratic in a long line.
_FENCE_START = re.compile(r"[ \t]*(`{3,}|~{3,})")

# Decorations around a file name line: a list bullet, a heading, a label.
_BULLET = re.compile(r"^(?:[-+]|\*(?!\*)|\d+[.)])\s+")
_LABEL = re.compile(r"^(?:file(?:name)?|path)\s*:\s*", re.IGNORECASE)
# No whitespace, no backtick (Markdown's), none of <>"|*?: (Windows refuses them; a colon is prose more often).
_PATH = re.compile(r'[^\s`<>"|*?:\x00-\x1f\x7f]+')
_EXTENSION = re.compile(r"[^./]\.\w+$")  # "x.py", "[id].tsx", "{c}.py"; not ".py" alone
# Names that are files though they have no extension or folder.
_BARE_NAMES = frozenset(
    {"Makefile", "Dockerfile", "Containerfile", "Justfile", "Procfile", "Gemfile", "Rakefile",
     "Vagrantfile", "LICENSE", "README", "CODEOWNERS", "Pipfile", "Brewfile"}
)
# How many non-blank lines before a block may hold its file name.
_LOOKBACK = 3

_FORMAT = (
    "give the file's path on its own line, then <<<<<<< SEARCH, the lines to find, "
    "=======, the new lines, >>>>>>> REPLACE"
)
_WHOLE_FORMAT = "give the file's path on its own line, then the whole content in a fenced block"


def parse_edits(
    text: str,
    *,
    whole_file: bool = False,
    default_path: str | None = None,
    known_paths: Iterable[str] = (),
) -> tuple[Edit, ...]:
    """The edits in a model's answer, in the order written, in the format it was asked for.

    `default_path`: the one file the model was asked about; a whole-file answer
    that is a single unnamed fenced block is taken as that file (small models
    often leave the name out). `known_paths`: the files the model was asked about
    (the default path is one), recognised as names even when they hold spaces."""
    known = _Known(known_paths, default_path)
    if whole_file:
        return parse_whole_files(text, default_path=default_path, known=known)
    return parse_search_replace(text, known=known)


class _Known:
    """The paths the model was asked about, to recognise on a name line or a fence line."""

    def __init__(self, paths: Iterable[str], default: str | None = None) -> None:
        self.paths = frozenset(p for p in (*paths, *([default] if default else [])) if p.strip())
        # Only names that the ordinary rule would not read need the slower look-up.
        self.spaced = tuple(sorted((p for p in self.paths if _path_or_none(p) is None), key=len, reverse=True))

    def name(self, text: str) -> str | None:
        return text if text in self.paths else _path_or_none(text)

    def in_info(self, info: str) -> str | None:
        """The path an info string (```markdown docs/my notes.md) ends with."""
        for path in self.spaced:
            if info == path or info.endswith((" " + path, "\t" + path)):
                return path
        words = info.split()
        return self.name(words[-1]) if words else None


def parse_search_replace(text: str, *, known: _Known | None = None) -> tuple[SearchReplace, ...]:
    known = known or _Known(())
    lines = _model_lines(text)
    edits: list[SearchReplace] = []
    name: str | None = None
    since = 0  # the lookback for a file name never reaches into the previous block
    i = 0
    while i < len(lines):
        if _TAIL.match(lines[i]):
            raise ParseError(
                f"block {len(edits) + 1} has a >>>>>>> REPLACE with no <<<<<<< SEARCH before it: {_FORMAT}"
            )
        if not _HEAD.match(lines[i]):
            i += 1
            continue
        block = len(edits) + 1
        name = _name_before(lines, since, i, known) or name
        if name is None:
            raise ParseError(f"block {block} has no file name: {_FORMAT}")
        search, i = _section(lines, i + 1, block, searching=True)
        replace, i = _section(lines, i + 1, block, searching=False)
        edits.append(SearchReplace(name, search, replace))
        i += 1
        since = i
    if not edits:
        raise ParseError(f"no SEARCH/REPLACE block found: {_FORMAT}")
    return tuple(edits)


def parse_whole_files(
    text: str, *, default_path: str | None = None, known: _Known | None = None
) -> tuple[WholeFile, ...]:
    known = known or _Known((), default_path)
    lines = _model_lines(text)
    files: list[WholeFile] = []
    since = 0
    nest = True  # until a fence fails to balance
    i = 0
    while i < len(lines):
        opening = _fence(lines[i])
        if opening is None:
            i += 1
            continue
        block = len(files) + 1
        fence, info = opening
        name = (known.in_info(info) if info else None) or _name_before(lines, since, i, known)
        end, balanced = _fence_end(lines, i + 1, fence, nest=nest)
        nest = nest and balanced
        if end is None:
            raise ParseError(f"block {block} is not closed: its content must end with a line {fence}")
        if name is None and default_path is not None and block == 1 and _fences_after(lines, end + 1) == 0:
            name = default_path
        if name is None:
            raise ParseError(f"block {block} has no file name: {_WHOLE_FORMAT}")
        files.append(WholeFile(name, _join(lines[i + 1 : end])))
        i = end + 1
        since = i
    if not files:
        raise ParseError(f"no file found: {_WHOLE_FORMAT}")
    return tuple(files)


def _fence(line: str) -> tuple[str, str] | None:
    """(the fence, its info string) when `line` opens or closes a fenced block."""
    match = _FENCE_START.match(line)
    if match is None:
        return None
    info = line[match.end() :].strip(" \t")
    if "`" in info:  # not a fence: inline code such as ```x``` on one line
        return None
    return match.group(1), info


def _fences_after(lines: list[str], start: int) -> int:
    """How many fences open after `start` (0: the block was the answer's only one)."""
    return sum(1 for line in lines[start:] if _fence(line))


def _model_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _section(lines: list[str], start: int, block: int, *, searching: bool) -> tuple[str, int]:
    """The text from `start` to the marker that ends this section, and that marker's index."""
    end_marker = _DIVIDER if searching else _TAIL
    for k in range(start, len(lines)):
        line = lines[k]
        if end_marker.match(line):
            return _join(lines[start:k]), k
        if _HEAD.match(line):
            missing = "=======" if searching else ">>>>>>> REPLACE"
            raise ParseError(f"block {block} has no {missing} before the next <<<<<<< SEARCH: {_FORMAT}")
        if searching and _TAIL.match(line):
            raise ParseError(f"block {block} has no ======= between SEARCH and REPLACE: {_FORMAT}")
    missing = "=======" if searching else ">>>>>>> REPLACE"
    raise ParseError(f"block {block} is not closed: the text ends before its {missing}")


def _name_before(lines: list[str], since: int, at: int, known: _Known) -> str | None:
    seen = 0
    for k in range(at - 1, since - 1, -1):
        if not lines[k].strip():
            continue
        name = _file_name(lines[k], known)
        if name is not None:
            return name
        seen += 1
        if seen == _LOOKBACK:
            break
    return None


def _file_name(line: str, known: _Known) -> str | None:
    """The path a line names, if that is all it says."""
    fence = _fence(line)
    if fence is not None:
        return known.in_info(fence[1]) if fence[1] else None
    text = _BULLET.sub("", line.strip())
    text = text.lstrip("#").strip().strip("*`").strip()
    text = _LABEL.sub("", text)
    text = text.strip(" \t*`'\":").strip()
    return known.name(text)


def _path_or_none(text: str) -> str | None:
    if not _PATH.fullmatch(text):
        return None
    if "/" in text or "\\" in text or _EXTENSION.search(text) or text in _BARE_NAMES:
        return text
    return None


def _fence_end(lines: list[str], start: int, fence: str, *, nest: bool) -> tuple[int | None, bool]:
    """The index of the line closing a fence opened by `fence`, and whether inner fences
    (those with an info string) balanced. Without `nest`, or when they do not balance,
    the first bare closing fence closes it."""
    first_bare: int | None = None
    depth = 0
    for k in range(start, len(lines)):
        found = _fence(lines[k])
        if found is None or found[0][0] != fence[0] or len(found[0]) < len(fence):
            continue
        if found[1]:
            depth += 1
            continue
        if first_bare is None:
            first_bare = k
        if depth == 0 or not nest:
            return k, True
        depth -= 1
    return first_bare, False

"""Every tool a task's model may call, as the model is told of it: the one list the
task loop offers, the permission rules name and the UI describes.

The descriptions are written for a model, small ones included: short, exact, and
saying the rule that would otherwise come back as a refusal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection

from assistant.core.edits.files import normalise
from assistant.core.edits.types import UnsafePath
from assistant.core.tool_calls import ToolSpec
from assistant.core.tools import files, run, search
from assistant.core.tools.repair import tool_name
from assistant.core.tools.types import KINDS, Args, Kind, Tool, text_arg


def _object(required: tuple[str, ...], **properties: dict[str, object]) -> dict[str, object]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def _path_subject(args: Args) -> str:
    """The normalised path when it is one (what permission rules match), else as written."""
    typed = text_arg(args, "path").strip()
    try:
        return normalise(typed)
    except UnsafePath:
        return typed


def _pattern_subject(name: str) -> Callable[[Args], str]:
    def subject(args: Args) -> str:
        text = text_arg(args, name).strip()
        while text.startswith("./"):
            text = text[2:]
        return "" if text == "." else text

    return subject


def _describe_read(args: Args) -> str:
    start, end = text_arg(args, "start"), text_arg(args, "end")
    lines = f":{start or 1}-{end}" if start or end else ""
    return f"read {text_arg(args, 'path')}{lines}"


def _describe_grep(args: Args) -> str:
    where = text_arg(args, "path").strip()
    case = " (any case)" if args.get("ignore_case") in (True, "true") else ""
    pattern = text_arg(args, "pattern")
    shown = json.dumps(pattern, ensure_ascii=False) if not pattern or any(c.isspace() for c in pattern) else pattern
    return f"grep {shown}{f' in {where}' if where else ''}{case}"


PREVIEW_LINES = 40  # of an edit's old and new text each, or a new file's, shown in an approval


def _marked(text: str, sign: str) -> str:
    """`text`'s lines, each after `sign` (a diff's - or +), cut at PREVIEW_LINES."""
    lines = text.split("\n")
    shown = [f"{sign} {line}" for line in lines[:PREVIEW_LINES]]
    if len(lines) > PREVIEW_LINES:
        shown.append(f"  … {len(lines) - PREVIEW_LINES:,} more lines")
    return "\n".join(shown)


READ = Tool(
    ToolSpec(
        "read",
        "Read a project file, with line numbers; `start` and `end` (1-based, inclusive) read part of it. "
        "A long file is cut, and says where to read on. Read a file before you edit it.",
        _object(
            ("path",),
            path={"type": "string", "description": "The file, relative to the project root."},
            start={"type": "integer", "minimum": 1, "description": "The first line to read."},
            end={"type": "integer", "minimum": 1, "description": "The last line to read."},
        ),
    ),
    "read", _path_subject, _describe_read, files.read,
)  # fmt: skip

LIST = Tool(
    ToolSpec(
        "list",
        "List the project's files, sorted (files git ignores are left out). `pattern` is a glob: `*.py` matches "
        "in any folder, `src/**/*.py` from the root, `src` is everything in that folder; none lists all.",
        _object((), pattern={"type": "string", "description": "A glob or a folder, relative to the project root."}),
    ),
    "read", _pattern_subject("pattern"), lambda args: f"list {text_arg(args, 'pattern')}".rstrip(), search.list_files,
)  # fmt: skip

GREP = Tool(
    ToolSpec(
        "grep",
        "Search the project's text files for a regular expression (Python syntax), line by line; each match is "
        "given as `path:line: text`. `path` limits the search to a folder, a file or a glob.",
        _object(
            ("pattern",),
            pattern={"type": "string", "description": "The regular expression."},
            path={"type": "string", "description": "A folder, a file or a glob, relative to the project root."},
            ignore_case={"type": "boolean", "description": "Match letters in either case."},
        ),
    ),
    "read", _pattern_subject("path"), _describe_grep, search.grep,
)  # fmt: skip

EDIT = Tool(
    ToolSpec(
        "edit",
        "Replace `old` by `new` in a file you have read in this task. `old` is quoted exactly from the file, "
        "spaces and line breaks included, and must occur once (add the lines around it to make it unique) unless "
        "`replace_all`. Quote only the lines that change: `old` may not be the whole file.",
        _object(
            ("path", "old", "new"),
            path={"type": "string", "description": "The file, relative to the project root."},
            old={"type": "string", "description": "The exact text to replace."},
            new={"type": "string", "description": "The text to put in its place."},
            replace_all={"type": "boolean", "description": "Replace every occurrence of `old`."},
        ),
    ),
    "edit", _path_subject, lambda args: f"edit {text_arg(args, 'path')}", files.edit,
    lambda args: _marked(text_arg(args, "old"), "-") + "\n" + _marked(text_arg(args, "new"), "+"),
)  # fmt: skip

WRITE = Tool(
    ToolSpec(
        "write",
        "Create a new file with `content` (its folders are made). An existing file is refused: edit it instead.",
        _object(
            ("path", "content"),
            path={"type": "string", "description": "The new file, relative to the project root."},
            content={"type": "string", "description": "The whole text of the file."},
        ),
    ),
    "edit", _path_subject, lambda args: f"write {text_arg(args, 'path')}", files.write,
    lambda args: _marked(text_arg(args, "content"), "+"),
)  # fmt: skip

RUN = Tool(
    ToolSpec(
        "run",
        "Run a shell command (sh -c) in the project folder and get its exit code and output (the first and last "
        "lines). It gets no secrets, and is stopped, with everything it started, after `timeout` seconds.",
        _object(
            ("command",),
            command={"type": "string", "description": "The command, e.g. `python -m pytest -x -q`."},
            timeout={"type": "integer", "minimum": 1, "description": "Seconds before it is stopped (capped by "
                     "the configuration)."},
        ),
    ),
    "run", lambda args: text_arg(args, "command").strip(), lambda args: f"run {text_arg(args, 'command').strip()}",
    run.run,
)  # fmt: skip

TOOLS: tuple[Tool, ...] = (READ, LIST, GREP, EDIT, WRITE, RUN)
TOOL_SPECS: tuple[ToolSpec, ...] = tuple(tool.spec for tool in TOOLS)
_BY_NAME = {tool.name: tool for tool in TOOLS}


def by_name(name: str) -> Tool | None:
    """The tool a model named, read as the repair layer reads names (`Read`, ` read `,
    `read_file`), or None."""
    found = tool_name(name, list(_BY_NAME)) if isinstance(name, str) else None
    return _BY_NAME.get(found) if found is not None else None


def specs(kinds: Collection[Kind] = KINDS) -> tuple[ToolSpec, ...]:
    """The specs of the tools of `kinds`, in catalog order (a read-only mode offers ("read",))."""
    return tuple(tool.spec for tool in TOOLS if tool.kind in kinds)

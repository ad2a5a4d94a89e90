"""Does a changed file still parse? tree-sitter (`tree-sitter-language-pack`, the
grammar picked from the file's name) finds the error and missing nodes of any
language it knows; Python files are also `compile()`d, which catches what a
grammar accepts and Python does not.

Only errors the edit introduced count: a file that did not parse before is not
blamed for still not parsing, unless the edit made it worse.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

# File name endings → tree-sitter-language-pack's grammar names.
LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby",
    ".php": "php", ".swift": "swift", ".kt": "kotlin", ".scala": "scala", ".lua": "lua", ".sh": "bash",
    ".bash": "bash", ".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".css": "css",
    ".html": "html",
}  # fmt: skip
MAX_PROBLEMS = 5  # per file: the first ones say enough


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    line: int  # 1-based
    column: int  # 1-based
    what: str  # "syntax error near 'def f(:'", "missing ')'", "Python: invalid syntax"

    def __str__(self) -> str:
        return f"line {self.line}:{self.column}: {self.what}"


def language_of(path: str) -> str | None:
    """The grammar for `path`, from its name; None for a kind of file no grammar covers."""
    return LANGUAGES.get(PurePosixPath(path).suffix.lower())


def problems(path: str, text: str) -> tuple[SyntaxProblem, ...]:
    """What does not parse in `text` (the content of `path`); () when it parses or no grammar covers it."""
    language = language_of(path)
    if language is None:
        return ()
    found = list(_tree_sitter(language, text))
    if language == "python":
        found += _compile(path, text)
    unique = sorted(set(found), key=lambda p: (p.line, p.column, p.what))
    return tuple(unique[:MAX_PROBLEMS])


def introduced(path: str, before: str | None, after: str) -> tuple[SyntaxProblem, ...]:
    """The problems of `after` the edit brought: all of them when `before` parsed
    (or is a new file); when it did not, those of `after` if there are more."""
    now = problems(path, after)
    if not now:
        return ()
    earlier = problems(path, before) if before is not None else ()
    return now if len(now) > len(earlier) else ()


def _tree_sitter(language: str, text: str) -> Iterator[SyntaxProblem]:
    from tree_sitter_language_pack import get_parser  # the grammars load when an edit is checked

    try:
        parser = get_parser(language)  # type: ignore[arg-type]
    except (LookupError, ValueError):  # a grammar this release does not ship
        return
    data = text.encode("utf-8", errors="surrogatepass")
    tree = parser.parse(data)
    if not tree.root_node.has_error:
        return
    yield from _error_nodes(tree.root_node, data)


def _error_nodes(node: Any, data: bytes) -> Iterator[SyntaxProblem]:  # noqa: ANN401 - a tree_sitter.Node
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_missing:
            row, col = current.start_point
            yield SyntaxProblem(row + 1, col + 1, f"missing {current.type!r}")
        elif current.type == "ERROR":
            row, col = current.start_point
            near = data[current.start_byte : current.end_byte].decode("utf-8", errors="replace").splitlines()
            snippet = (near[0] if near else "").strip()[:40]
            yield SyntaxProblem(row + 1, col + 1, f"syntax error near {snippet!r}" if snippet else "syntax error")
            continue  # its children are the same error
        if current.has_error:
            stack.extend(reversed(current.children))


def _compile(path: str, text: str) -> list[SyntaxProblem]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning (an invalid escape) is not an error
            compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return [SyntaxProblem(exc.lineno or 1, exc.offset or 1, f"Python: {exc.msg}")]
    except (ValueError, RecursionError, MemoryError) as exc:  # a NUL byte; a nesting too deep to compile
        return [SyntaxProblem(1, 1, f"Python: {type(exc).__name__}: {exc}"[:120])]
    return []


def context_lines(text: str, line: int, around: int = 3) -> str:
    """The lines around `line`, numbered, for the model to see what it broke."""
    lines = text.splitlines()
    start, end = max(line - 1 - around, 0), min(line + around, len(lines))
    return "\n".join(f"{n + 1:>5} | {lines[n]}" for n in range(start, end))

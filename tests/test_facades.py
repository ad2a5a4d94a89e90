"""The two facades stay thin (issue 25): the session is used through its status and a few
verbs, never through its collaborators, and neither it nor the App grows back into a
class that does everything. Counted from the source, so the limit is read where it is set."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "assistant"
# 31 since issue 27: `act`, the verb that runs a task (its loop and plumbing live in
# core/session/task.py and acting.py, not here). 32 since issue 28: `rewinds`, the one
# collaborator the UI and CLI take a turn back through (core/session/rewind.py).
MOST_METHODS = 32


def methods(path: Path, name: str) -> list[str]:
    """Every function defined in the class `name`'s body, nested ones and properties included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    return [f.name for f in ast.walk(cls) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_the_chat_session_and_the_app_each_have_at_most_32_methods() -> None:
    for path, name in [("core/session/chat.py", "ChatSession"), ("ui/app.py", "AssistantApp")]:
        found = methods(PACKAGE / path, name)
        assert len(found) <= MOST_METHODS, f"{name} has {len(found)} methods: {', '.join(found)}"


# `session.pool`, `app.session.windows`, … and `session.limiter = …`: a collaborator reached
# through the session, or a session attribute set from outside.
REACH = re.compile(r"\bsession\.(pool|_\w+)\b")
ASSIGN = re.compile(r"\bsession\.\w+\s*=[^=]")


def test_nothing_outside_the_session_package_reaches_inside_a_session() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "core" / "session"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith(("from ", "import ")):
                continue  # core.session.pool, the module
            if REACH.search(line) or ASSIGN.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_the_checks_see_a_reach_and_an_assignment() -> None:
    assert REACH.search("names = app.session.pool.names()") and REACH.search("session._runner.run(turn)")
    assert ASSIGN.search("session.limiter = limits")
    assert not ASSIGN.search("if session.mode == AUTO:")

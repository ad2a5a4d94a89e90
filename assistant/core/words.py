"""The words a turn is read by: its kinds, and the `@` prefixes the app gives a
meaning to. One table, so that no server or plugin can take a prefix's name
(config refuses it) and the reader of a message knows every one."""

from __future__ import annotations

from typing import Literal, get_args

# What a turn is (core/routing/kinds.py reads it from the turn): an edit of existing
# code, a request for new code, a question about code or concepts, bulk work, chat, or a
# task (the model acts: it reads, edits and runs in the project with tools, step by step).
TurnKind = Literal["chat", "explain", "code", "edit", "batch", "task"]
KINDS: tuple[TurnKind, ...] = get_args(TurnKind)
# A user flag: the turn needs the best answer there is.
QUALITY = "quality"

AUTO = "auto"  # `@auto`: the router decides, even in a fixed mode
OTHER = "other"  # `@other`: the backend that did not answer the last turn
FLAG_WORDS = {"quality": QUALITY, "best": QUALITY}
KIND_WORDS: dict[str, TurnKind] = {**{kind: kind for kind in KINDS}, "refactor": "edit"}
PREFIX_WORDS = frozenset({AUTO, OTHER, *FLAG_WORDS, *KIND_WORDS})
TASK = "task"


def asks_for_task(text: str) -> bool:
    """Whether `text` asks for a task: `@task` among the `@` words it starts with
    (`@claude @task …`), as the session reads its prefixes (core/session/user_input.py)."""
    for word in text.split():
        if not word.startswith("@"):
            return False
        if word[1:].lower() == TASK:
            return True
    return False

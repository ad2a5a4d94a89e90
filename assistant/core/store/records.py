"""The ledger's rows as typed records, and the check that a row read back holds
what its record's fields say (a damaged file is one error, not a TypeError later)."""

from __future__ import annotations

import json
import re
import types
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from assistant.core.results import OUTCOMES, Outcome

# A signal on an answer (core/store/ratings.py): which way, and where it came from.
Verdict = Literal["good", "bad", "none"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
# "checks": a task's end, its project's checks passed or not; "undo": its commit taken back;
# "rewind": its files or its exchange taken back by a rewind (a /redo appends what was before).
Source = Literal["rating", "retry", "keep", "checks", "undo", "rewind"]
# A check's statuses that do not count against an edit: passed, or failed already before it.
PASSING_CHECKS = ("passed", "failed before")
_DATE_SUFFIX = re.compile(r"-\d{8}$")


def undated(model: str) -> str:
    """A model's name without the date a provider adds to a snapshot's id
    ("claude-sonnet-4-5-20250929" → "claude-sonnet-4-5"). An API answers an alias
    with the dated id it served, and turns are recorded under that; the router asks
    for the model by its configured alias: both name the same model's figures."""
    return _DATE_SUFFIX.sub("", model)


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One turn, as it ended. `None` means not known, which is never the same as 0."""

    session_id: str
    started_at: float  # Unix time (time.time()) the turn started
    backend: str  # "claude", "local", ...
    model: str
    outcome: str  # one of OUTCOMES
    route_reason: str = ""  # why the router chose this backend; empty without a router
    prompt_tokens: int | None = None  # whole prompt, cache reads and writes included
    completion_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0  # all cache writes (5-minute + 1-hour)
    cache_write_1h_tokens: int = 0  # the part of cache_write_tokens with a 1-hour TTL
    prompt_tokens_evaluated: int | None = None  # local: evaluated; the rest came from the KV cache
    usage_estimated: bool = False  # token counts are an estimate, not the API's report
    ttft: float | None = None  # seconds
    generation_seconds: float | None = None  # first token -> last token
    elapsed: float = 0.0  # whole turn, seconds
    tokens_per_second: float | None = None
    cost: float | None = None  # dollars; None = unknown (never treat as 0)
    counterfactual_cost: float | None = None  # the same tokens on the reference Claude model
    reference_model: str = ""
    error: str = ""  # one-line error message when outcome is error/interrupted
    # The route decision (migration 2): which router decided, and what it expected.
    decided_by: str = ""
    estimated_cost: float | None = None
    estimated_seconds: float | None = None
    # Quality routing (migration 8): the turn's kind ("" before it), and whether it
    # went to its backend to measure it rather than as the best choice.
    kind: str = ""
    explored: bool = False
    # Migration 10: the rate the tokens arrived at in the app, beside `tokens_per_second`
    # (the engine's own where it reports its timings: then `engine_timed`).
    client_tokens_per_second: float | None = None
    engine_timed: bool = False
    # Migration 12: the task this turn is a model step of ("" for a chat turn), and which step.
    task_id: str = ""
    step: int = 0
    id: int | None = None  # row id, set when read back

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {self.outcome!r}")


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    """A refactor proposal and what became of it (applied, rejected by the user, failed to apply)."""

    session_id: str
    at: float
    backend: str
    model: str
    path: str
    outcome: str  # "applied" | "rejected" | "failed"
    # How it went (migration 7): what the next issue's quality routing reads.
    edit_format: str = ""  # "whole-file" | "search-replace"; "" before migration 7
    parsed: bool = True  # its answer parsed and its edits applied in memory
    fuzzy: int = 0  # SEARCH blocks that matched only ignoring whitespace
    repairs: int = 0  # rounds the model was sent back (a bad block, a syntax error, a failing check)
    checks: str = "[]"  # JSON: [{"name": "syntax" | "lint" | "tests", "status": ..., "seconds": ...}]
    change_id: str = ""  # applied: its commit, or its backup outside git
    undone_at: float | None = None  # when /undo (or `assistant undo`) took it back
    # Migration 8: the turn whose answer it is (None before it), and its kind.
    turn_id: int | None = None
    kind: str = "edit"  # "edit" | "batch"

    @property
    def good(self) -> bool:
        """Applied and kept, its checks passing: a good answer (anything else is a bad one)."""
        if self.outcome != "applied" or not self.parsed or self.undone_at is not None:
            return False
        try:
            checks = json.loads(self.checks)
        except ValueError:
            return False
        return isinstance(checks, list) and all(isinstance(c, dict) and c.get("status") in PASSING_CHECKS for c in checks)


@dataclass(frozen=True, slots=True)
class ToolStepRecord:
    """One tool step of a task (migration 12): what ran, how it was allowed, what it took."""

    task_id: str
    session_id: str
    step: int  # the model step whose call it answers
    at: float  # Unix time it ended
    tool: str
    description: str  # one line: "run pytest -x"
    ok: bool
    summary: str
    seconds: float  # the tool's own time (0 when it did not run)
    exit_code: int | None = None
    permission: str = ""  # "allowed: …", "approved", "refused: …"
    id: int | None = None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task, once it ended (migration 12): its figures, model time and tool time apart."""

    id: str
    session_id: str
    started_at: float
    instruction: str
    end: str  # TaskEnd: answered | steps | tokens | cancelled | error
    steps: int
    tool_steps: int
    model_seconds: float
    tool_seconds: float
    tokens_in: int
    tokens_out: int
    cost: float | None
    changed: str = "[]"  # JSON list of project paths
    commit_id: str = ""
    reason: str = ""
    # The project's checks run at its end, when it changed files: JSON
    # [{"name", "status", "seconds"}]; and when `undo` took its commit back.
    checks: str = "[]"
    undone_at: float | None = None


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """A turn that may change files (a task, an applied refactor), between two
    checkpoints of the project (core/checkpoints/)."""

    session_id: str
    project: str  # the project's real path
    at: float
    kind: str  # "task" | "refactor"
    label: str  # the instruction, as the rewind list shows it
    before_tree: str
    after_tree: str = ""  # "" until the turn ended (a killed one never says)
    changes: str = "[]"  # JSON [[path, "added"|"changed"|"deleted", "edit"|"command"]]
    chat_at: int = 0  # how many exchanges the stored chat held when it began
    turn_id: int | None = None  # the turn whose answer ended it
    change_id: str = ""  # its commit (or backup), for the history's undo
    rewound_by: int | None = None  # the rewind that took it back
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RewindRecord:
    """A rewind: files, chat or both back to before a point of a session's list."""

    session_id: str
    project: str
    at: float
    point: int  # the point it went back to before (1 = the session's first)
    what: str  # "files" | "chat" | "both"
    target_tree: str = ""
    before_tree: str = ""  # the files just before it: what /redo puts back
    after_tree: str = ""
    restored: str = "[]"  # JSON paths written or removed
    kept: str = "[]"  # JSON paths left as the user had them
    chat_cut: int | None = None  # the stored exchanges it kept (the rest: rewound_exchanges)
    state: str = "started"  # "started" | "done" | "redone" | "abandoned"
    redone_at: float | None = None
    commit_id: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class EvalSample:
    """One task of an offline evaluation, as its backend's model did it (`assistant eval`)."""

    run_id: str
    at: float
    backend: str
    model: str
    kind: str  # the turn kind it measures: code | edit | task
    task_set: str  # "humaneval", "edits", "repos"
    task_id: str
    passed: bool  # the task's tests passed
    well_formed: bool  # the answer held what was asked for (code extracted, an edit parsed and applied)
    status: str  # "passed", "failed", "timed out", "no code", "error: …"
    completion: str = ""  # what was run (the code, the edit), for --export and review
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    model_seconds: float = 0.0
    check_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A session and, when listed, the sum of its turns."""

    id: str
    started_at: float
    title: str = ""
    cwd: str = ""
    turns: int = 0
    cost: float | None = 0.0  # None when any turn's cost is unknown
    last_at: float | None = None  # start of the latest turn; None without turns


@cache
def _field_types(cls: type) -> tuple[dict[str, tuple[type, ...]], frozenset[str]]:
    """The Python types each field of a record class may hold as read from SQLite
    (a float column may come back as an int), and the fields stored as 0/1 ints."""
    allowed: dict[str, tuple[type, ...]] = {}
    flags: set[str] = set()
    for name, hint in get_type_hints(cls).items():
        parts = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
        kinds: list[type] = []
        for part in parts:
            if part is float:
                kinds += [float, int]
            elif part is bool:
                kinds.append(int)
                flags.add(name)
            elif isinstance(part, type):
                kinds.append(part)
        allowed[name] = tuple(kinds)
    return allowed, frozenset(flags)


def typed_values(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """`values` for `cls(**values)`, each checked against the field's type (as stored:
    a float may be an int, a flag 0/1); TypeError names the first that is not."""
    allowed, flags = _field_types(cls)
    for name, value in values.items():
        kinds = allowed.get(name)
        if kinds and not isinstance(value, kinds):
            raise TypeError(f"{name} holds a {type(value).__name__}")
    for name in flags & values.keys():
        values[name] = bool(values[name])
    return values

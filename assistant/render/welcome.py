"""The first thing a newcomer reads: an empty transcript's welcome. What the app is,
which backends can answer and, for the others, why not and what to do, for each
model whose quality nothing has measured yet what measuring it takes, who will
answer each kind of turn and why (asked of the router itself), and the few
commands that start everything. It is shown, never stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.core.decisions import RouteDecision
from assistant.render import format as fmt

if TYPE_CHECKING:  # the first frame draws the welcome before any plan exists: no import for it
    from assistant.core.session.plan import Unmeasured

INTRO = (
    "assistant: chat about code and edit files with a local model (free per token) or Claude. "
    "Each turn goes where the router sends it, with the reason, "
    "and every answer shows what it cost and how fast it came."
)
COMMANDS = (
    ("/help", "every command and key"),
    ("/model", "who answers, or switch: /model auto, /model claude, /model PATH.gguf"),
    ("/task TEXT", "let the model do it: read, search, edit and run tests in the project, asking first"),
    ("/refactor PATH", "ask for an edit of a file, review the diff, apply and commit it"),
    ("/good, /bad", "rate the last answer: the router learns what each backend is good enough for"),
    ("/cost", "what this session has cost so far"),
)


def route_lines(plan: Sequence[tuple[str, RouteDecision]]) -> list[str]:
    """Who answers each kind of turn and why, the kinds that share a reason on one
    line: `code: local's quality on code is not measured yet → claude`."""
    kinds_by_reason: dict[str, list[str]] = {}
    for kind, decision in plan:
        kinds_by_reason.setdefault(decision.reason.removeprefix(f"{kind}: "), []).append(kind)
    if len(kinds_by_reason) == 1:
        [reason] = kinds_by_reason
        return [f"Every turn: {reason}"]
    return [f"{', '.join(kinds)}: {reason}" for reason, kinds in kinds_by_reason.items()]


def unmeasured_line(found: Unmeasured) -> str:
    """`local · SmolLM2: quality not measured yet — `assistant eval --backend local --limit 20`
    measures it in about 4 min (…)`: the welcome's line, and `assistant ask`'s once."""
    command = f"`assistant eval --backend {found.backend} --limit {found.tasks}`"
    said = f"{found.backend} · {found.model}: quality not measured yet — {command} measures it"
    if found.tokens_per_second is None:
        return f"{said}; how long is unknown until a first turn measures its speed"
    if found.seconds is None or found.answer_tokens is None:
        return f"{said}; how long is unknown (no answer length to go on: HumanEval's problems cannot be read)"
    took = "in under a minute" if found.seconds < 60 else f"in about {fmt.duration(found.seconds)}"
    speed, answer = fmt.rate(found.tokens_per_second), f"{found.answer_tokens:,.0f} tokens"
    if found.basis == "measured":
        return f"{said} {took} (measured: {speed}, answers of {answer} in earlier evaluations)"
    return f"{said} {took} (from its speed: {speed}, answers as long as HumanEval's solutions, {answer})"


def welcome_text(
    backends: Sequence[tuple[str, str, str]] | None, plan: Sequence[tuple[str, RouteDecision]] = ()
) -> str:
    """`backends`: (name, model, why it cannot answer; "" when it can), or None while
    they are being checked; `plan`: each kind of turn and where it goes now, and
    the models whose quality is not measured yet (core/session/plan.py), once known."""
    lines = [INTRO, ""]
    if backends is None:
        lines.append("Checking the backends…")
    else:
        for name, model, why in backends:
            if why:
                lines.append(f"✗ {name}: {why.strip().splitlines()[0]}")
            else:
                lines.append(f"✓ {name} · {model}: ready")
    if unmeasured := getattr(plan, "unmeasured", ()):  # a RoutePlan names them; a plain sequence names none
        lines += ["", *(unmeasured_line(found) for found in unmeasured)]
    if plan:
        lines += ["", "Who answers now:", *(f"  {line}" for line in route_lines(plan))]
    width = max(len(command) for command, _ in COMMANDS)
    lines += ["", *(f"{command.ljust(width)}  {what}" for command, what in COMMANDS)]
    return "\n".join(lines)

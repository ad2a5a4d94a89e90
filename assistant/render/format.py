"""How figures look, in the TUI and on the command line.

Formatting only: every figure is computed in the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.core.decisions import Estimate, RouteDecision
    from assistant.core.results import TaskResult, TurnResult
    from assistant.core.store.saved_sessions import StoredExchange

DASH = "–"
ABOUT = "≈"  # marks an estimate (before the API's own usage report arrives)


def rate(tokens_per_second: float | None) -> str:
    if tokens_per_second is None:
        return DASH
    digits = 0 if tokens_per_second >= 100 else 1
    return f"{tokens_per_second:,.{digits}f} tok/s"


def seconds(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def duration(value: float | None) -> str:
    """A span that may last minutes or hours: `850 ms`, `12.30 s`, `14 min`, `2 h 05 min`."""
    if value is None:
        return DASH
    if value < 60:
        return seconds(value)
    minutes = round(value / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def count(value: int | None, estimated: bool = False) -> str:
    if value is None:
        return DASH
    return f"{ABOUT}{value:,}" if estimated else f"{value:,}"


def cost(dollars: float | None, known: bool = True, estimated: bool = False) -> str:
    """Unknown cost is shown as unknown, never as $0."""
    if dollars is None:
        return "unknown"
    text = f"${dollars:.4f}" if dollars < 1 else f"${dollars:,.2f}"
    if not known:
        return f"≥{text}"
    return f"{ABOUT}{text}" if estimated else text


def percent(share: float | None) -> str:
    return DASH if share is None else f"{share * 100:.0f}%"


def estimate(est: Estimate | None) -> str:
    """`est. $0.0040 · 3.10 s`, with "?" for what could not be estimated."""
    if est is None:
        return "no estimate"
    dollars = cost(est.cost) if est.cost is not None else "$?"
    time = seconds(est.seconds) if est.seconds is not None else "? s"
    return f"est. {dollars} · {time}"


def answer_label(backend: str, model: str, fallback_from: str | None = None) -> str:
    """An answer's heading: who answered (`claude · claude-sonnet-5-5`), and whom it stood in for."""
    label = f"{backend} · {model}"
    return f"{label} (fallback from {fallback_from})" if fallback_from else label


def stored_answer(item: StoredExchange) -> tuple[str, str, str]:
    """A stored answer's heading, route badge and figures line, drawn from its
    turn's figures as a live answer's are (or as shown when stored, for answers
    stored before their figures were)."""
    if item.result is not None:
        r = item.result
        badge = route_badge(r.decision) if r.decision is not None else ""
        return answer_label(r.backend, r.model, r.fallback_from), badge, turn_summary(r)
    if item.shown is not None:
        return item.shown.label, item.shown.badge, item.shown.footer
    return "", "", ""


def route_badge(decision: RouteDecision) -> str:
    """The turn's kind, who decided, why, and what the chosen backend was expected
    to cost and take. A reason that names its kind (`quality`'s) or its router
    (`privacy: .env matches .env*`) already is not told it twice."""
    said = decision.reason.split(":", 1)[0] if ":" in decision.reason else None
    kind = f"{decision.kind} · " if decision.kind and said != decision.kind else ""
    by = f"{decision.decided_by}: " if decision.decided_by and said != decision.decided_by else ""
    return f"{kind}{by}{decision.reason} ({estimate(decision.estimate_for(decision.backend))})"


def candidates_table(decision: RouteDecision) -> list[str]:
    """`--why`: one line per candidate, its estimated cost and time and its measured
    quality on the turn's kind, the chosen one marked."""
    lines = []
    for e in decision.estimates:
        q = e.quality
        rated = f"{q.good}/{q.rated} good, ≥ {q.lower:.2f}" if q.enough else f"not enough data ({q.rated} rated)"
        mark = "→" if e.backend == decision.backend else " "
        lines.append(f"{mark} {e.backend}: {estimate(e)} · {decision.kind or 'turn'} quality {rated}")
    return lines


def turn_summary(result: TurnResult) -> str:
    """One line of a finished turn's figures (the TUI's answer footer, `ask`'s stderr line):
    what was measured, never the estimate made before it."""
    s, usage = result.stats, result.usage
    estimated = s.usage_estimated
    parts = [
        rate(s.generation_tps),
        f"TTFT {seconds(s.ttft)}",
        f"prompt {rate(s.prompt_eval_tps)}",
        f"{count(s.tokens_in, estimated)} in / {count(s.tokens_out, estimated)} out",
        cost(result.cost, estimated=estimated),
    ]
    if s.prompt_tokens_evaluated is not None and s.tokens_in and s.prompt_tokens_evaluated != s.tokens_in:
        parts.insert(3, f"{count(s.prompt_tokens_evaluated)} evaluated")
    if usage is not None and (usage.cache_read_tokens or usage.cache_write_tokens):
        parts.insert(3, f"cache {count(usage.cache_read_tokens)} read / {count(usage.cache_write_tokens)} written")
    parts.append(f"took {seconds(s.elapsed)}")
    # The estimate is the route badge's, above the answer: said once, not again
    # beside what the turn took.
    if result.stop_reason == "max_tokens":
        parts.append("stopped at max_tokens")
    return " · ".join(parts)


def task_summary(result: TaskResult) -> str:
    """One line of a finished task's figures: steps, model time and tool time apart,
    the model's rate over its own time, tokens and cost (the TUI's task footer, `ask`'s)."""
    steps = f"{result.steps} step{'s' if result.steps != 1 else ''}"
    tools = f"{result.tool_steps} tool call{'s' if result.tool_steps != 1 else ''}"
    parts = [
        f"{steps}, {tools}",
        f"model {seconds(result.model_seconds)}",
        f"tools {seconds(result.tool_seconds)}",
        rate(result.tokens_per_second),
        f"{count(result.tokens_in)} in / {count(result.tokens_out)} out",
        cost(result.cost),
    ]
    if result.changed:
        parts.append(f"changed {len(result.changed)} file{'s' if len(result.changed) != 1 else ''}"
                     + (f", commit {result.commit[:8]}" if result.commit else ""))  # fmt: skip
    return " · ".join(parts)


def task_note(result: TaskResult) -> str | None:
    """What the transcript says under a task's answer when it did not simply answer:
    why it stopped (a cap, an error, Esc), or what went wrong after (not committed)."""
    if result.end == "error":
        return f"Error: {result.reason or 'the task failed'}"
    reason = result.reason or ("stopped by you" if result.end == "cancelled" else "")
    if not reason:
        return None
    sentence = reason[0].upper() + reason[1:]
    return sentence if sentence.endswith((".", "!", "?", ")")) else f"{sentence}."


def tool_line(tool: str, description: str, summary: str, took: float | None) -> str:
    """One tool step, as the transcript and `ask` show it: `▸ run pytest -x · exit 0 · 1.2 s`."""
    parts = [f"▸ {description or tool}", summary]
    if took is not None:
        parts.append(seconds(took))
    return " · ".join(p for p in parts if p)


def turn_note(result: TurnResult) -> str | None:
    """What the transcript says under an answer that did not simply end."""
    lines = []
    if result.fallback_from:
        lines.append(f"{result.fallback_from} could not answer: {result.fallback_reason}")
    if result.outcome == "interrupted" and result.error is not None:
        lines.append(f"{result.error.message} The partial answer is kept; send it again to retry.")
    elif result.error is not None:
        lines.append(f"Error: {result.error.message}")
    elif result.outcome == "cancelled":
        lines.append("Cancelled.")
    return "\n".join(lines) or None

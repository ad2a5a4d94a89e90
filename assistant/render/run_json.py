"""`assistant ask --json` and `--stream-json`: a turn, and each event of it, as JSON.

The shapes are documented by `assistant/data/run.schema.json` (JSON Schema,
checked in the tests), and carry `version`: a field is added in a new version,
never renamed or given another meaning. Every figure is the one core measured;
an unknown one is null, never 0 (a cost says why it is unknown).
"""

from __future__ import annotations

import json
from typing import Any

from assistant.core.decisions import RouteDecision
from assistant.core.events import (
    FallbackStarted,
    Notice,
    Retrying,
    RouteDecided,
    SessionEvent,
    StepStarted,
    StreamEvent,
    TextDelta,
    Timings,
    ToolFinished,
    ToolStarted,
    Usage,
)
from assistant.core.results import TaskResult, TurnResult

VERSION = 1


def line(obj: dict[str, Any]) -> str:
    """One object on one line (lone surrogates escaped, so the line is always valid UTF-8)."""
    return json.dumps(obj, ensure_ascii=True)


def _route(d: RouteDecision) -> dict[str, Any]:
    return {
        "backend": d.backend,
        "router": d.decided_by,
        "reason": d.reason,
        "kind": d.kind or None,
        "explored": d.explored,
        "estimates": [
            {
                "backend": e.backend, "cost": e.cost, "seconds": e.seconds, "basis": e.basis,
                "quality": {"good": e.quality.good, "bad": e.quality.bad, "mean": e.quality.mean,
                            "lower": e.quality.lower, "upper": e.quality.upper, "enough": e.quality.enough},
            }
            for e in d.estimates
        ],
    }  # fmt: skip


def event_object(event: StreamEvent | SessionEvent) -> dict[str, Any] | None:
    """A streamed event as `--stream-json` writes it; None for one it does not write."""
    match event:
        case TextDelta(text=text, tokens=tokens) if text:
            return {"version": VERSION, "type": "text", "text": text, "tokens": tokens}
        case RouteDecided(decision=decision):
            return {"version": VERSION, "type": "route", **_route(decision)}
        case Usage():
            return {"version": VERSION, "type": "usage", "prompt_tokens": event.prompt_tokens,
                    "completion_tokens": event.completion_tokens, "cache_read_tokens": event.cache_read_tokens,
                    "cache_write_tokens": event.cache_write_tokens, "prompt_tokens_evaluated": event.prompt_tokens_evaluated,
                    "estimated": event.estimated}  # fmt: skip
        case Timings():
            return {"version": VERSION, "type": "timings", "prompt_eval_seconds": event.prompt_eval_seconds,
                    "prompt_eval_tokens": event.prompt_eval_tokens, "generation_seconds": event.generation_seconds,
                    "generated_tokens": event.generated_tokens}  # fmt: skip
        case Retrying():
            return {"version": VERSION, "type": "retry", "attempt": event.attempt, "wait_seconds": event.wait_seconds,
                    "reason": event.reason}  # fmt: skip
        case FallbackStarted():
            return {"version": VERSION, "type": "fallback", "from": event.from_backend, "to": event.to_backend,
                    "model": event.to_model, "reason": event.reason}  # fmt: skip
        case Notice(text=text):
            return {"version": VERSION, "type": "notice", "text": text}
        case StepStarted(step=step, backend=backend):
            return {"version": VERSION, "type": "step", "step": step, "backend": backend}
        case ToolStarted():
            return {"version": VERSION, "type": "tool_call", "step": event.step, "id": event.call_id, "tool": event.tool,
                    "description": event.description}  # fmt: skip
        case ToolFinished():
            return {"version": VERSION, "type": "tool_result", "step": event.step, "id": event.call_id,
                    "tool": event.tool, "description": event.description, "ok": event.ok, "summary": event.summary,
                    "output": event.output, "seconds": event.seconds, "exit_code": event.exit_code,
                    "permission": event.permission}  # fmt: skip
    return None


def task_object(result: TaskResult, *, session_id: str) -> dict[str, Any]:
    """The finished task: its last model step as `turn_object` writes a turn, with the
    task's own figures under `task`."""
    if result.last is not None:
        obj = turn_object(result.last, session_id=session_id, cancelled=result.end == "cancelled")
    else:
        message = result.error.message if result.error is not None else result.reason
        obj = not_started_object("", result.error.kind if result.error is not None else "request", message, kind="task")
    if result.end == "error" and obj["error"] is None:
        obj["error"] = {"kind": "request", "message": result.reason}
    obj["task"] = {
        "end": result.end, "steps": result.steps, "tool_steps": result.tool_steps,
        "model_seconds": result.model_seconds, "tool_seconds": result.tool_seconds, "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out, "tokens_per_second": result.tokens_per_second, "cost": result.cost,
        "changed": list(result.changed), "commit": result.commit, "reason": result.reason,
    }  # fmt: skip
    return obj


def _cost_why(result: TurnResult) -> str | None:
    if result.cost is not None:
        return None
    if result.usage is None:
        return "the backend reported no usage"
    return f"no price for {result.model}"


def turn_object(result: TurnResult, *, session_id: str, cancelled: bool = False) -> dict[str, Any]:
    """The finished turn: what `--json` prints, and `--stream-json`'s last line."""
    s, u = result.stats, result.usage
    return {
        "version": VERSION,
        "type": "done",
        "outcome": "cancelled" if cancelled and result.outcome == "ok" else result.outcome,
        "answer": result.text,
        "backend": result.backend,
        "model": result.model,
        "kind": (result.decision.kind or None) if result.decision is not None else None,
        "route": _route(result.decision) if result.decision is not None else None,
        "fallback_from": result.fallback_from,
        "stop_reason": result.stop_reason,
        "tokens": {
            "in": s.tokens_in,
            "out": s.tokens_out,
            "cache_read": u.cache_read_tokens if u else 0,
            "cache_write": u.cache_write_tokens if u else 0,
            "prompt_evaluated": s.prompt_tokens_evaluated,
            "estimated": s.usage_estimated,
        },
        "ttft_seconds": s.ttft,
        "tokens_per_second": s.generation_tps,
        "app_tokens_per_second": s.client_tps,
        "engine_timed": s.engine_timed,
        "elapsed_seconds": s.elapsed,
        "cost": {"dollars": result.cost, "known": result.cost is not None, "why_unknown": _cost_why(result)},
        "session_id": session_id,
        "turn_id": result.turn_id,
        "error": {"kind": result.error.kind, "message": result.error.message} if result.error is not None else None,
    }


def not_started_object(backend: str, error_kind: str, message: str, *, kind: str | None = None) -> dict[str, Any]:
    """A turn that never started (its backend could not load): `--json`'s object all
    the same, so a script reading it learns why rather than finding nothing."""
    return {
        "version": VERSION, "type": "done", "outcome": "error", "answer": "", "backend": backend, "model": "",
        "kind": kind, "route": None, "fallback_from": None, "stop_reason": None,
        "tokens": {"in": None, "out": 0, "cache_read": 0, "cache_write": 0, "prompt_evaluated": None, "estimated": False},
        "ttft_seconds": None, "tokens_per_second": None, "app_tokens_per_second": None, "engine_timed": False,
        "elapsed_seconds": 0.0, "cost": {"dollars": 0.0, "known": True, "why_unknown": None},
        "session_id": "", "turn_id": None, "error": {"kind": error_kind, "message": message},
    }  # fmt: skip

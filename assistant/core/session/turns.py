"""The helpers every turn uses: reading a backend's events
safely, telling whether a backend can take a turn (and saying why none can),
and the ledger row of a turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence

from assistant.core import store
from assistant.core.backends.protocol import Backend, BackendUnavailable
from assistant.core.backends.unavailable import UnavailableBackend
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import BackendError, StreamEvent
from assistant.core.results import TurnResult
from assistant.core.tool_calls import ToolSpec


def events(
    backend: Backend, messages: Sequence[Message], cancel: threading.Event, tools: Sequence[ToolSpec] = ()
) -> Iterator[StreamEvent]:
    """The backend's events; a backend that raises becomes a `BackendError`. `tools` go
    only to a backend that takes them (a plugin's `stream` may not know the word)."""
    try:
        if tools:
            yield from backend.stream(messages, cancel, tools=tools)
        else:
            yield from backend.stream(messages, cancel)
    except Exception as exc:  # third-party backends must not take the app down
        yield BackendError(f"{backend.name} failed: {type(exc).__name__}: {exc}")


def unavailable_reason(backend: Backend, *, load: bool = False) -> str:
    """Why `backend` cannot take a turn now ("" when it can). A local model that is
    not loaded yet counts as available (it loads when chosen); a remote one is
    loaded here, which costs no network."""
    if isinstance(backend, UnavailableBackend):
        return backend.reason
    if backend.loaded:
        return ""
    if backend.capabilities.local and not load:
        return getattr(backend, "load_error", "") or ""
    try:
        backend.load()
    except BackendUnavailable as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a plugin's failure is a reason, not a crash
        return f"{backend.name} failed to load: {type(exc).__name__}: {exc}"
    return ""


def nothing_can_answer(reasons: Mapping[str, str]) -> str:
    """One line: why each backend cannot answer (`reasons`: name → why, "" for one
    that can; each backend's own reason says what it needs), and where settings are."""
    said = "; ".join(f"{name}: {why.rstrip('.')}" for name, why in reasons.items() if why) or "every backend failed"
    return (
        f"No backend can answer ({said}). `assistant config` shows every backend's settings; "
        "`assistant config --init` writes a config to edit."
    )


def turn_record(
    session_id: str,
    started_at: float,
    result: TurnResult,
    route_reason: str,
    config: Config,
    decided_by: str = "",
    estimate=None,  # noqa: ANN001 - an Estimate or None
    *,
    kind: str = "",
    explored: bool = False,
) -> store.TurnRecord:
    s, u = result.stats, result.usage
    return store.TurnRecord(
        session_id=session_id,
        started_at=started_at,
        backend=result.backend,
        model=result.model,
        outcome=result.outcome,
        route_reason=route_reason,
        prompt_tokens=u.prompt_tokens if u else None,
        completion_tokens=s.tokens_out,
        cache_read_tokens=u.cache_read_tokens if u else 0,
        cache_write_tokens=u.cache_write_tokens if u else 0,
        cache_write_1h_tokens=u.cache_write_1h_tokens if u else 0,
        prompt_tokens_evaluated=u.prompt_tokens_evaluated if u else None,
        usage_estimated=bool(u and u.estimated),
        ttft=s.ttft,
        generation_seconds=s.generation_seconds,
        elapsed=s.elapsed,
        tokens_per_second=s.generation_tps,
        cost=result.cost,
        counterfactual_cost=result.counterfactual_cost,
        reference_model=config.cost.reference_model,
        error=result.error.message if result.error else "",
        decided_by=decided_by,
        estimated_cost=estimate.cost if estimate is not None else None,
        estimated_seconds=estimate.seconds if estimate is not None else None,
        kind=kind,
        explored=explored,
        client_tokens_per_second=s.client_tps,
        engine_timed=s.engine_timed,
    )

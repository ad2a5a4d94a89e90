"""The status bar: backend, model and the current/last turn's measured figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from assistant.core.words import AUTO
from assistant.render import format as fmt
from assistant.ui.widgets.rendered import RenderedLines, RenderedPart

if TYPE_CHECKING:
    from assistant.core.results import TurnStats
    from assistant.core.session.status import SessionStatus


@dataclass(frozen=True)
class StatusView:
    """Everything the bar shows (`status_view` makes it from the session's status)."""

    backend: str
    model: str
    state: str  # "loading 42%", "ready", "generating", "unavailable"
    stats: TurnStats | None = None
    context_fill: float | None = None
    turn_cost: float | None = None
    session_cost: float = 0.0
    session_cost_known: bool = True
    cost_note: str = ""


def status_view(status: SessionStatus, state: str) -> StatusView:
    """What the bar shows of `status`; `state` is the app's ("loading 42%", "ready"…),
    "generating" while an answer streams (unless a retry waits)."""
    if status.backend is None:  # before the first frame nothing is created; the load worker does it
        return opening_view(status.mode, state)
    generating = status.answering and not state.startswith("retrying")
    return StatusView(
        backend=f"auto → {status.backend}" if status.mode == AUTO else status.backend,
        model=status.model,
        state="generating" if generating else state,
        stats=status.stats,
        context_fill=status.context_fill,
        turn_cost=status.turn_cost,
        session_cost=status.session_cost,
        session_cost_known=status.session_cost_known,
        cost_note=price_note(status),
    )


def opening_view(mode: str, state: str) -> StatusView:
    """The bar before a backend is made (`mode`: "auto", or the backend every turn
    goes to), and in the first frame, drawn before the session is opened."""
    return StatusView(backend=mode, model="…", state=state)


def price_note(status: SessionStatus) -> str:
    """Where the backend's cost comes from."""
    if status.per_hour is not None:
        who = "local machine" if status.local else status.backend
        return f"{who} ${status.per_hour:g}/h"
    return f"prices of {status.prices_of}" if status.prices_of is not None else "no price for this model: cost unknown"


class StatusBar(RenderedLines):
    """Its lines are rendered once per view, and only a line that changed is painted
    again: while an answer streams the bar changes several times a second, and as
    a `Static` (a Textual `Content` built, wrapped and styled again each time, and
    the whole bar repainted) each change cost ~1 ms the model's threads could use."""

    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._view: StatusView | None = None
        self.set_tail(self._part())

    @property
    def view(self) -> StatusView | None:
        return self._view

    @view.setter
    def view(self, view: StatusView | None) -> None:
        if view != self._view:
            self._view = view
            self.set_tail(self._part())

    def _part(self) -> RenderedPart:
        text = self.text()
        return RenderedPart(lambda: text)

    def text(self) -> Text:
        """What the bar shows, as text (tests read it)."""
        v = self._view
        if v is None:
            return Text("starting…")
        s = v.stats
        estimated = bool(s and s.usage_estimated)
        line1 = Text.assemble(
            (f"{v.backend}", "bold"),
            " · ",
            (v.model, "italic"),
            " · ",
            (v.state, "bold" if v.state != "ready" else ""),
        )
        line1.append("   session ", style="dim")
        line1.append(fmt.cost(v.session_cost, v.session_cost_known))
        if v.cost_note:
            line1.append(f" ({v.cost_note})", style="dim")
        parts = [
            ("gen", fmt.rate(s.generation_tps if s else None)),
            ("TTFT", fmt.seconds(s.ttft if s else None)),
            ("prompt", fmt.rate(s.prompt_eval_tps if s else None)),
            ("in", fmt.count(s.tokens_in if s else None, estimated)),
            ("out", fmt.count(s.tokens_out if s else None, estimated)),
            ("ctx", fmt.percent(v.context_fill)),
            ("turn", fmt.cost(v.turn_cost, estimated=estimated) if s else fmt.DASH),
        ]
        line2 = Text()
        for i, (label, value) in enumerate(parts):
            if i:
                line2.append("  ")
            line2.append(f"{label} ", style="dim")
            line2.append(value)
        return Text("\n").join([line1, line2])

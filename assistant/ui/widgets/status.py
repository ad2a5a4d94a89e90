"""The status bar: backend, model and the current/last turn's measured figures."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from assistant.core.results import TurnStats
from assistant.render import format as fmt
from assistant.ui.widgets.rendered import RenderedLines, RenderedPart


@dataclass(frozen=True)
class StatusView:
    """Everything the bar shows; the app builds it from the core and sets it."""

    backend: str
    model: str
    state: str  # "loading 42%", "ready", "generating", "unavailable"
    stats: TurnStats | None = None
    context_fill: float | None = None
    turn_cost: float | None = None
    session_cost: float = 0.0
    session_cost_known: bool = True
    cost_note: str = ""


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

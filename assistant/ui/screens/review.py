"""The review of an edit proposal: a coloured diff per file, accept all, reject,
or accept file by file. Nothing is written until the user says so."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from assistant import format as fmt
from assistant.core.refactor import Proposal, diff_stats, unified_diff


class ReviewScreen(ModalScreen[tuple[str, ...] | None]):
    """Dismisses with the paths to apply, or None (rejected)."""

    DEFAULT_CSS = """
    ReviewScreen { align: center middle; }
    ReviewScreen > Vertical {
        width: 95%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ReviewScreen #review-summary { height: auto; margin-bottom: 1; }
    ReviewScreen #review-diffs { height: 1fr; }
    ReviewScreen .file-diff { height: auto; margin-bottom: 1; }
    ReviewScreen #review-buttons { height: auto; align-horizontal: right; }
    ReviewScreen Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("a", "accept_all", "Accept all"),
        Binding("enter", "apply_selected", "Apply selected", show=False),
        Binding("r", "reject", "Reject"),
        Binding("escape", "reject", "Reject", show=False),
    ]

    def __init__(self, proposal: Proposal) -> None:
        super().__init__()
        self.proposal = proposal

    def compose(self) -> ComposeResult:
        p = self.proposal
        added, removed = diff_stats(p.changes)
        result = p.result
        badge = ""
        if result is not None and result.decision is not None:
            badge = f"{result.backend} · {result.model} — {fmt.route_badge(result.decision)}"
        notes = []
        if p.retried:
            notes.append("after one retry")
        if p.fuzzy:
            notes.append(f"{p.fuzzy} block(s) matched only ignoring whitespace")
        summary = Text.assemble(
            (f"{p.instruction}\n", "bold"),
            (f"+{added} ", "green"), (f"−{removed}", "red"),
            f" · {len(p.changes)} file(s) · {fmt.cost(p.cost)} · {fmt.seconds(p.seconds)}",
            (f" · {', '.join(notes)}" if notes else "", "yellow"),
            (f"\n{badge}" if badge else "", "dim"),
        )
        with Vertical():
            yield Static(summary, id="review-summary")
            with VerticalScroll(id="review-diffs"):
                for i, change in enumerate(p.changes):
                    yield Checkbox(change.path, value=True, id=f"file-{i}")
                    diff = Syntax(unified_diff(change), "diff", theme="ansi_dark", background_color="default")
                    yield Static(diff, classes="file-diff")
            with Horizontal(id="review-buttons"):
                yield Button("Apply selected", id="apply", variant="primary")
                yield Button("Accept all", id="accept-all", variant="success")
                yield Button("Reject", id="reject", variant="error")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Review the proposed edit"
        self.query_one(Vertical).border_subtitle = "a accept all · r reject · Enter apply selected"
        self.query_one("#apply", Button).focus()

    def selected(self) -> tuple[str, ...]:
        return tuple(
            change.path
            for i, change in enumerate(self.proposal.changes)
            if self.query_one(f"#file-{i}", Checkbox).value
        )

    @on(Button.Pressed, "#apply")
    def action_apply_selected(self) -> None:
        chosen = self.selected()
        self.dismiss(chosen or None)

    @on(Button.Pressed, "#accept-all")
    def action_accept_all(self) -> None:
        self.dismiss(tuple(c.path for c in self.proposal.changes))

    @on(Button.Pressed, "#reject")
    def action_reject(self) -> None:
        self.dismiss(None)

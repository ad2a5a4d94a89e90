"""The review of an edit proposal: a coloured diff per file and per hunk; accept
all, reject, or choose file by file and hunk by hunk. Nothing is written until
the user says so."""

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
from assistant.core.edits.hunks import hunks
from assistant.core.refactor import Proposal, diff_stats

Selection = dict[str, frozenset[int]]


class ReviewScreen(ModalScreen[Selection | None]):
    """Dismisses with the hunks to apply per file, or None (rejected)."""

    DEFAULT_CSS = """
    ReviewScreen { align: center middle; }
    ReviewScreen > Vertical {
        width: 95%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ReviewScreen #review-summary { height: auto; margin-bottom: 1; }
    ReviewScreen #review-diffs { height: 1fr; }
    ReviewScreen .file-box { text-style: bold; }
    ReviewScreen .hunk-box { margin-left: 2; }
    ReviewScreen .hunk-diff { height: auto; margin: 0 0 1 4; }
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
        self.hunks = [hunks(change) for change in proposal.changes]

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
                    yield Checkbox(change.path, value=True, id=f"file-{i}", classes="file-box")
                    for hunk in self.hunks[i]:
                        yield Checkbox(hunk.header, value=True, id=f"hunk-{i}-{hunk.index}", classes="hunk-box")
                        lines = hunk.diff.split("\n", 1)[1]  # the header is the box's label
                        diff = Syntax(lines, "diff", theme="ansi_dark", background_color="default")
                        yield Static(diff, classes="hunk-diff")
            with Horizontal(id="review-buttons"):
                yield Button("Apply selected", id="apply", variant="primary")
                yield Button("Accept all", id="accept-all", variant="success")
                yield Button("Reject", id="reject", variant="error")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Review the proposed edit"
        self.query_one(Vertical).border_subtitle = "a accept all · r reject · Enter apply selected"
        self.query_one("#apply", Button).focus()

    def selected(self) -> Selection:
        """The checked hunks of each file that has any."""
        chosen: Selection = {}
        for i, change in enumerate(self.proposal.changes):
            picked = frozenset(
                h.index for h in self.hunks[i] if self.query_one(f"#hunk-{i}-{h.index}", Checkbox).value
            )
            if picked:
                chosen[change.path] = picked
        return chosen

    @on(Checkbox.Changed, ".file-box")
    def toggle_file(self, event: Checkbox.Changed) -> None:
        """A file's box checks or clears all its hunks."""
        i = int((event.checkbox.id or "file-0").removeprefix("file-"))
        for hunk in self.hunks[i]:
            self.query_one(f"#hunk-{i}-{hunk.index}", Checkbox).value = event.value

    @on(Button.Pressed, "#apply")
    def action_apply_selected(self) -> None:
        self.dismiss(self.selected() or None)

    @on(Button.Pressed, "#accept-all")
    def action_accept_all(self) -> None:
        self.dismiss({c.path: frozenset(h.index for h in self.hunks[i]) for i, c in enumerate(self.proposal.changes)})

    @on(Button.Pressed, "#reject")
    def action_reject(self) -> None:
        self.dismiss(None)

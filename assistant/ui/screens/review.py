"""The review of an edit proposal: a coloured diff per file and per hunk; accept
all, reject, or choose file by file and hunk by hunk. Nothing is written until
the user says so.

A new file that nobody named (not the /refactor target nor an /add file) starts
unchecked and marked "new file, not asked for": it is written only when the user
checks it; Accept all leaves it out unless checked. A file reached through a
symlink is labelled "link.py → real/target.py". Labels are plain text, never
markup, so `app/[id]/page.tsx` reads as it is.

The project's checks (found in the project by default) run after the yes by
default (`[edits] checks`): the review names them and what found them, says
plainly when no tests will run ("no tests found: checked for syntax only"), and
an edit one of them fails is offered again (`ChecksFailedScreen`), written only
on that second yes."""

from __future__ import annotations

from collections.abc import Callable

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from assistant.core.edits.hunks import hunks
from assistant.core.edits.types import FileChange
from assistant.core.workflows.refactor import Proposal, diff_stats
from assistant.render import format as fmt
from assistant.render.refactor import check_lines
from assistant.ui.screens.confirm import Confirm

Selection = dict[str, frozenset[int]]


def checks_said(p: Proposal, summary_lines: int = 2) -> Text:
    """The checks' lines (render/refactor.py), on lines of their own below what comes before."""
    said = check_lines(p, summary_lines)
    return Text("\n").append_text(said) if said else said


class ReviewScreen(ModalScreen[Selection | None]):
    """Dismisses with the hunks to apply per file, or None (rejected)."""

    AUTO_FOCUS = "#apply"  # Textual's own focus on mount: a screen dismissed at once queries nothing

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

    def __init__(self, proposal: Proposal, shown: Callable[[str], str] = str) -> None:
        """`shown`: a path as the user should see it (the refactorer's, naming a symlink's target)."""
        super().__init__()
        self.proposal = proposal
        self.shown = shown
        self.hunks = [hunks(change) for change in proposal.changes]

    def label(self, change: FileChange) -> Text:
        if change.path in self.proposal.unasked:
            return Text.assemble(self.shown(change.path), (" — new file, not asked for", "bold yellow"))
        return Text(self.shown(change.path) + (" (new file)" if change.before is None else ""))

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
            *((f"\nnot written: {line}", "yellow") for line in p.refused),
            ("\ndoes not parse (after one repair round):" if not p.parses else "", "bold red"),
            *((f"\n  {line}", "red") for line in p.syntax_lines()),
            checks_said(p),
        )
        with Vertical() as box:
            box.border_title = "Review the proposed edit"
            box.border_subtitle = "a accept all · r reject · Enter apply selected"
            yield Static(summary, id="review-summary")
            with VerticalScroll(id="review-diffs"):
                for i, change in enumerate(p.changes):
                    asked = change.path not in p.unasked
                    yield Checkbox(self.label(change), value=asked, id=f"file-{i}", classes="file-box")
                    for hunk in self.hunks[i]:
                        yield Checkbox(Text(hunk.header), value=asked, id=f"hunk-{i}-{hunk.index}", classes="hunk-box")
                        lines = hunk.diff.split("\n", 1)[1]  # the header is the box's label
                        diff = Syntax(lines, "diff", theme="ansi_dark", background_color="default")
                        yield Static(diff, classes="hunk-diff")
            with Horizontal(id="review-buttons"):
                yield Button("Apply selected", id="apply", variant="primary")
                yield Button("Accept all", id="accept-all", variant="success")
                yield Button("Reject", id="reject", variant="error")


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
        """Every hunk of every file, but a new file nobody asked for only when checked."""
        unasked = self.proposal.unasked
        self.dismiss({
            c.path: frozenset(h.index for h in self.hunks[i])
            for i, c in enumerate(self.proposal.changes)
            if c.path not in unasked or self.query_one(f"#file-{i}", Checkbox).value
        } or None)

    @on(Button.Pressed, "#reject")
    def action_reject(self) -> None:
        self.dismiss(None)


class ChecksFailedScreen(Confirm):
    """After the yes, a check did not pass: its outcome, and the question again.
    Dismisses True only for "Apply anyway"; Enter and Esc keep the files as they are."""

    def __init__(self, proposal: Proposal) -> None:
        said = Text.assemble(
            (f"{proposal.path}: its checks do not pass with the edit you accepted.", "bold"),
            checks_said(proposal, summary_lines=8),
            "\nNothing has been written. Apply it anyway?",
        )
        super().__init__("Checks failed", said, yes="Apply anyway", no="Do not apply")
        self.proposal = proposal

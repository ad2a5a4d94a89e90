"""How the rewind list, a rewind's preview and what it did read, in the TUI and on
the command line (core/session/rewind.py computes all of it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.core.session.rewind import Point, Preview, Rewound

MARK = {"added": "+", "changed": "~", "deleted": "−"}
TEXT_CHARS = 60
FILES_SHOWN = 6
WHAT = {"both": "files and chat", "files": "files only", "chat": "chat only"}


def short(text: str, room: int = TEXT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= room else flat[: room - 1] + "…"


def point_changes(point: Point) -> str:
    """`a.py ~, made.txt + (command)`: what the point's turn changed, by whom when a command."""
    shown = [f"{c.path} {MARK.get(c.change, '?')}" + (" (command)" if c.by == "command" else "")
             for c in point.changes[:FILES_SHOWN]]  # fmt: skip
    more = len(point.changes) - FILES_SHOWN
    return ", ".join(shown) + (f", {more} more" if more > 0 else "")


def point_line(point: Point) -> str:
    """One line of the list: number, kind, text and the files it changed."""
    out = "" if point.in_conversation else " (not in the conversation)"
    changes = point_changes(point)
    return f"{point.number:>3}  {point.kind:<8} {short(point.text)}{out}" + (f"  ·  {changes}" if changes else "")


def points_lines(points: list[Point]) -> list[str]:
    if not points:
        return ["This session has no turn to rewind to yet."]
    return [point_line(p) for p in points]


def preview_lines(preview: Preview) -> list[str]:
    """What a rewind would do, file by file, the user's own changes named."""
    p = preview.point
    lines = [f"Rewind to before {p.number} ({p.kind}: {short(p.text, 40)}), {WHAT[preview.what]}:"]
    chosen = preview.plan
    if chosen is not None:
        for step in chosen.steps:
            mine = f" (to your version, after {preview.labels.get(step.mine, 'a turn')})" if step.mine is not None else ""
            lines.append(f"  {step.change:<8} {step.path}{mine}")
        for kept in (k for k in chosen.kept if k.touched):
            when = f" after {preview.labels[kept.after]}" if kept.after is not None and kept.after in preview.labels else ""
            lines.append(f"  keep     {kept.path}  (changed by you{when}; kept unless you choose otherwise)")
        if others := [k.path for k in chosen.kept if not k.touched]:
            names = ", ".join(others[:FILES_SHOWN]) + (f" and {len(others) - FILES_SHOWN} more" if len(others) > FILES_SHOWN else "")
            lines.append(f"  keep     {names}  (yours, not touched by these turns)")
    if preview.what != "chat" and (chosen is None or chosen.empty):
        lines.append("  no file to put back")
    if preview.large:
        names = ", ".join(preview.large[:FILES_SHOWN]) + (f" and {len(preview.large) - FILES_SHOWN} more"
                                                          if len(preview.large) > FILES_SHOWN else "")  # fmt: skip
        lines.append(f"  left as they are, too large for checkpoints ([checkpoints] max_file_mib): {names}")
    if preview.chat_leaving:
        n = preview.chat_leaving
        lines.append(f"  chat: {n} exchange{'s' if n != 1 else ''} leave the conversation "
                     "(kept in the ledger; /redo brings them back)")  # fmt: skip
    return lines


def rewound_line(rewound: Rewound, *, redo: bool = False) -> str:
    """One line: what a rewind (or a redo) did."""
    verb = "Redone" if redo else "Rewound"
    parts = [f"{len(rewound.restored)} file{'s' if len(rewound.restored) != 1 else ''} put back"]
    if rewound.chat_moved:
        moved = "back in" if redo else "out of"
        parts.append(f"{rewound.chat_moved} exchange{'s' if rewound.chat_moved != 1 else ''} {moved} the chat")
    if touched := [k.path for k in rewound.kept if k.touched]:
        parts.append("kept yours: " + ", ".join(touched))
    if rewound.skipped:
        parts.append("not put back: " + ", ".join(f"{path} ({why})" for path, why in rewound.skipped))
    if rewound.commit:
        parts.append(f"committed {rewound.commit[:7]}")
    tail = "" if redo else " /redo takes it back."
    return f"{verb}: " + "; ".join(parts) + "." + tail

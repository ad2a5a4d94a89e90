"""The first thing a newcomer reads: an empty transcript's welcome. What the app is,
which backends can answer and, for the others, why not and what to do, and the
few commands that start everything. It is shown, never stored."""

from __future__ import annotations

from collections.abc import Sequence

INTRO = (
    "assistant: chat about code and edit files with a local model (free per token) or Claude. "
    "Each turn goes to the cheapest backend whose answers are good enough for it, "
    "and every answer shows what it cost and how fast it came."
)
COMMANDS = (
    ("/help", "every command and key"),
    ("/model", "who answers, or switch: /model auto, /model claude, /model PATH.gguf"),
    ("/refactor PATH", "ask for an edit of a file, review the diff, apply and commit it"),
    ("/cost", "what this session has cost so far"),
)


def welcome_text(backends: Sequence[tuple[str, str, str]] | None) -> str:
    """`backends`: (name, model, why it cannot answer; "" when it can), or None while
    they are being checked."""
    lines = [INTRO, ""]
    if backends is None:
        lines.append("Checking the backends…")
    else:
        for name, model, why in backends:
            if why:
                lines.append(f"✗ {name}: {why.strip().splitlines()[0]}")
            else:
                lines.append(f"✓ {name} · {model}: ready")
    width = max(len(command) for command, _ in COMMANDS)
    lines += ["", *(f"{command.ljust(width)}  {what}" for command, what in COMMANDS)]
    return "\n".join(lines)

"""The question asked before a message holding what looks like a key goes to the
cloud backend the person named (`@claude …`, `/model claude`): send it there, or
let the privacy router keep it on this machine (core/session/secret_hold.py)."""

from __future__ import annotations

from rich.text import Text

from assistant.core.session.secret_hold import SecretHold
from assistant.ui.screens.confirm import Confirm


class SecretScreen(Confirm):
    """Dismisses True only for "Send to BACKEND"; Enter and Esc keep the message here."""

    def __init__(self, hold: SecretHold) -> None:
        said = Text.assemble(
            (f"{hold.what[:1].upper()}{hold.what[1:]}.", "bold"),
            f"\nSend it to {hold.backend} all the same, or answer it on this machine?",
        )
        super().__init__("A secret in the message", said, yes=f"Send to {hold.backend}", no="Keep it here",
                         warning=True)  # fmt: skip
        self.hold = hold

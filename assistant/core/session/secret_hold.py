"""A secret typed into a message that the person sends to a cloud backend by name
(`@claude …`, `/model claude`, `--backend claude`).

The privacy router keeps such a turn on this machine, as it keeps any turn with a
typed secret (routers/privacy.py). But a person who named the backend meant it: so
the TUI asks first (a yes sends the turn with the `ALLOW_SECRET` flag, a no lets the
router keep it here), and `assistant ask` refuses it unless `--allow-secret`.
`secret_hold` says, before the turn starts, whether that question arises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.core.config import Config
from assistant.core.session.runner import AUTO
from assistant.core.session.user_input import parse_turn
from assistant.core.typed_secrets import Finding, describe, find_secrets

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession

PRIVACY = "privacy"  # the router that keeps typed secrets here, and its switch for them
TYPED_SWITCH = "typed"


@dataclass(frozen=True, slots=True)
class SecretHold:
    """The message holds `findings` and would go to the cloud backend `backend`."""

    backend: str
    findings: tuple[Finding, ...]

    @property
    def what(self) -> str:
        """"the message holds what looks like a Stripe live key": the kind, never the value."""
        return f"the message holds what looks like {describe(self.findings)}"


def secret_hold(session: ChatSession, text: str) -> SecretHold | None:
    """The hold on `text` in `session`, or None: no backend named (the router decides,
    and keeps a secret here), a named backend on this machine or the person's own
    server, a chain that does not keep typed secrets here, or no secret in it. The
    text is scanned last: asked on the UI thread, the usual message costs a prefix read."""
    parsed = parse_turn(text, session.backend_names())
    # `@other` is left to the router: which backend it names is known only by loading them.
    named = parsed.forced or (session.mode if session.mode != AUTO and not parsed.auto and not parsed.other else None)
    if named is None or not guarded(session.config):
        return None
    capabilities = session.backend_named(named).capabilities
    if capabilities.local or capabilities.private:
        return None
    findings = find_secrets(text)
    return SecretHold(named, findings) if findings else None


def guarded(config: Config) -> bool:
    """Whether the chain's privacy router keeps typed secrets here: it is in
    `[router] chain` and `[routers.privacy] typed` is not off (the last layer that
    sets it wins, the command line's over the file's; on by default)."""
    if PRIVACY not in config.router.chain:
        return False
    typed: object = True
    for _, table in config.plugin_settings("routers", PRIVACY).layers:
        typed = table.get(TYPED_SWITCH, typed)
    return typed is not False

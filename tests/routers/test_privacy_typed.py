"""`privacy` over a secret typed into the message: such a turn stays on this machine
(or the person's own server), even over `@claude`, with a reason that names the kind
of secret and never its value; a secret let go (`ALLOW_SECRET`) is left to the chain;
`[routers.privacy] typed = false` turns the check off. And `secret_hold`: when the
person names a cloud backend for such a message, the TUI asks and `ask` refuses."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.backends.protocol import Capabilities
from assistant.core.config import Config
from assistant.core.decisions import BackendProfile, TurnRequest
from assistant.core.routing.chain import build_chain
from assistant.core.routing.discovery import load_router
from assistant.core.session.chat import ChatSession
from assistant.core.session.secret_hold import secret_hold
from assistant.core.typed_secrets import ALLOW_SECRET
from tests.routers.test_routers import claude, ctx, local

KEY = "sk_live_51HxYzQ8rT2vLm9NbC4kW7pXs3Ad"
AWS = "AKIAIOSFODNN7EXAMPLE"
TYPED = TurnRequest(f"how do I list charges with key {KEY}?")


@pytest.fixture
def privacy(tmp_path: Path):
    return load_router("privacy", Config(), project_root=tmp_path)


def test_a_typed_key_stays_local_and_the_reason_names_its_kind_only(privacy) -> None:
    d = privacy.route(TYPED, ctx())
    assert d is not None and (d.backend, d.fallbacks, d.allow_any_fallback) == ("local", (), False)
    assert d.reason == "privacy: the message holds what looks like a Stripe live key → local only"
    assert KEY[8:] not in d.reason


def test_even_over_claude_and_with_every_kind_named(privacy) -> None:
    turn = TurnRequest(f"{KEY} and {AWS} and {KEY}", forced="claude", forced_by="@claude")
    d = privacy.route(turn, ctx())
    assert d is not None and d.backend == "local"
    assert d.reason == ("privacy: the message holds what looks like a Stripe live key and an AWS access key ID "
                        "(and 1 more) → local only")  # fmt: skip


def test_the_whole_chain_keeps_it_here(tmp_path: Path) -> None:
    chain, problems = build_chain(Config(), tmp_path)
    d = chain.route(replace(TYPED, forced="claude", forced_by="@claude", flags=frozenset({"quality"})), ctx())
    assert not problems and (d.backend, d.decided_by) == ("local", "privacy")


def test_a_private_server_may_take_it_a_public_one_never(privacy) -> None:
    ours = BackendProfile("gpu", "llama-70b", True, local=False, private=True, priced_by_time=True)
    theirs = BackendProfile("vllm", "llama-70b", True, local=False)
    d = privacy.route(TYPED, ctx(claude(), theirs, ours, local(available=False, unavailable_reason="no model")))
    assert d is not None and (d.backend, d.fallbacks) == ("gpu", ())
    d = privacy.route(TYPED, ctx(claude(), local(available=False, unavailable_reason="no model")))
    assert d is not None and d.backend == "local" and d.reason.endswith("but local is unavailable (no model)")


def test_a_secret_let_go_is_left_to_the_chain_but_a_secret_file_is_not(privacy) -> None:
    allowed = replace(TYPED, forced="claude", flags=frozenset({ALLOW_SECRET}))
    assert privacy.route(allowed, ctx()) is None
    d = privacy.route(replace(allowed, files=(".env",)), ctx())
    assert d is not None and d.reason == "privacy: .env matches .env* → local only"


def test_typed_false_turns_the_check_off(tmp_path: Path) -> None:
    off = Config().with_overrides({"routers.privacy.typed": False}, "test")
    assert load_router("privacy", off, project_root=tmp_path).route(TYPED, ctx()) is None


@pytest.mark.parametrize(
    "text",
    ["explain git rebase", "commit 3f786850e387550fdab836ed7e6dc881de23001b broke the build",
     "what does -----BEGIN RSA PRIVATE KEY----- mean?", "set api_key = os.environ['API_KEY']"],
)  # fmt: skip
def test_a_message_with_no_secret_passes(privacy, text: str) -> None:
    assert privacy.route(TurnRequest(text), ctx()) is None


# -- secret_hold: the named cloud backend --------------------------------------------------


class OurServer(ScriptedBackend):
    """A server of the person's own (`[servers.NAME] private = true`)."""

    @property
    def capabilities(self) -> Capabilities:
        return replace(super().capabilities, private=True)


def session(config: Config | None = None, mode: str = "auto") -> ChatSession:
    config = config or Config()
    config = replace(config, general=replace(config.general, backend=mode))
    backends = {
        "claude": ScriptedBackend(["From the cloud."], name="claude", local=False),
        "local": ScriptedBackend(["From here."], name="local"),
        "gpu": OurServer(["From our server."], name="gpu", local=False),
    }
    return ChatSession(config, backends=backends, installed=False)


def test_a_key_to_a_named_cloud_backend_is_held() -> None:
    hold = secret_hold(session(), f"@claude {TYPED.text}")
    assert hold is not None and hold.backend == "claude"
    assert hold.what == "the message holds what looks like a Stripe live key"
    fixed = secret_hold(session(mode="claude"), TYPED.text)  # /model claude, --backend claude
    assert fixed is not None and fixed.backend == "claude"


@pytest.mark.parametrize(
    ("text", "mode"),
    [(TYPED.text, "auto"),  # the router decides, and keeps it here
     (f"@local {TYPED.text}", "auto"), (f"@gpu {TYPED.text}", "auto"),  # this machine, our own server
     (f"@auto {TYPED.text}", "claude"), ("@claude explain git rebase", "auto")],  # no secret
)  # fmt: skip
def test_no_hold_where_the_router_decides_or_nothing_leaves(text: str, mode: str) -> None:
    assert secret_hold(session(mode=mode), text) is None


def test_no_hold_where_the_chain_keeps_no_typed_secret() -> None:
    off = Config().with_overrides({"routers.privacy.typed": False}, "test")
    assert secret_hold(session(off), f"@claude {TYPED.text}") is None
    no_privacy = Config().with_overrides({"router.chain": ["budget", "rules"]}, "test")
    assert secret_hold(session(no_privacy), f"@claude {TYPED.text}") is None

"""A routed session end to end on scripted backends: decisions, fallback, the
window, the ledger's record of each decision, /retry other and /compact."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import BackendError, FallbackStarted, Notice, RouteDecided
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.store.ledger import Ledger

SONNET = "claude-sonnet-5-5"


def backends(*, claude: dict | None = None, local: dict | None = None):
    remote = ScriptedBackend(**{"answers": ["Claude's answer."], "name": "claude", "local": False,
                                "model_name": SONNET, "context_size": 200_000, **(claude or {})})
    here = ScriptedBackend(**{"answers": ["Local answer."], "name": "local", **(local or {})})
    return remote, here


def session(tmp_path: Path, config: Config | None = None, **kw) -> tuple[ChatSession, ScriptedBackend, ScriptedBackend]:
    remote, here = backends(claude=kw.pop("claude", None), local=kw.pop("local", None))
    config = config or Config()
    config = replace(config, general=replace(config.general, backend=AUTO))
    s = ChatSession(config, backends={"claude": remote, "local": here}, installed=False,
                    ledger=Ledger.open, project_root=tmp_path, **kw)
    return s, remote, here


def ask(s: ChatSession, text: str):
    seen: list = []
    result = s.run_turn(text, threading.Event(), seen.append)
    return result, seen


def test_with_nothing_measured_the_free_local_model_answers(tmp_path: Path) -> None:
    s, _, _ = session(tmp_path)
    result, seen = ask(s, "hello")
    assert result.backend == "local" and result.text == "Local answer."
    (decided,) = [e for e in seen if isinstance(e, RouteDecided)]
    assert decided.decision.decided_by == "rules" and "local costs $0" in decided.decision.reason
    assert {e.backend for e in decided.decision.estimates} == {"claude", "local"}


@pytest.mark.parametrize(
    ("text", "expected", "reason"),
    [
        ("@claude explain monads", "claude", "@claude → claude"),
        ("@quality explain monads", "claude", "highest quality"),
        ("@batch rename all", "local", "batch"),
        ("@batch @quality rename all", "claude", "highest quality"),  # the analysis's order: quality first
        ("@local hi", "local", "@local → local"),
    ],
)
def test_prefixes_steer_the_route(tmp_path: Path, text: str, expected: str, reason: str) -> None:
    s, remote, _ = session(tmp_path)
    result, _ = ask(s, text)
    assert result.backend == expected and reason in result.decision.reason
    if expected == "claude":  # the prefixes are not sent to the model
        assert remote.seen[-1][-1].content == " ".join(w for w in text.split() if not w.startswith("@"))


def test_a_secret_file_in_the_turn_never_goes_to_the_cloud(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("API_TOKEN=x\n")
    s, remote, _ = session(tmp_path)
    result, _ = ask(s, "@claude what is in .env?")
    assert result.backend == "local" and result.decision.decided_by == "privacy"
    assert remote.seen == []


def test_near_the_session_cap_turns_go_local(tmp_path: Path) -> None:
    probe, _, _ = session(tmp_path)
    ask(probe, "@claude hi")
    turn = probe.status().session_cost  # what one turn on Claude costs
    s, _, _ = session(tmp_path, Config().with_overrides({"routers.budget.session_dollars": turn / 0.95}))
    ask(s, "@claude hi")  # the same turn: 95% of the cap spent
    result, _ = ask(s, "@claude hi")
    assert result.backend == "local" and result.decision.decided_by == "budget"
    assert "session cap" in result.decision.reason


def test_a_backend_that_cannot_start_hands_the_turn_on(tmp_path: Path) -> None:
    limited = BackendError("Claude is rate-limiting this key [429 rate_limit_error].", kind="rate_limit")
    s, remote, here = session(tmp_path, claude={"failures": [limited]})
    result, seen = ask(s, "@claude hi")
    assert result.text == "Local answer." and result.fallback_from == "claude"
    assert any(isinstance(e, FallbackStarted) for e in seen)
    rows = Ledger.open().turns(session_id=s.session_id)
    assert [(r.backend, r.outcome, r.decided_by) for r in rows] == [
        ("claude", "error", "rules"),
        ("local", "ok", "fallback"),
    ]
    assert rows[1].route_reason == "fallback from claude: rate_limit"


def test_the_ledger_keeps_the_decision_and_its_estimate(tmp_path: Path) -> None:
    s, _, _ = session(tmp_path)
    for _ in range(3):
        ask(s, "hi")
    rows = Ledger.open().turns(session_id=s.session_id)
    assert all(r.decided_by == "rules" and r.route_reason for r in rows)
    # Local costs $0 at $0/h: its estimate is exactly that, known from the first turn.
    assert [r.estimated_cost for r in rows] == [0.0, 0.0, 0.0]
    # Once measured, the time estimate rests on the measured turns.
    assert rows[0].estimated_seconds is None and rows[2].estimated_seconds is not None


def test_retry_other_asks_again_elsewhere_and_keeps_both(tmp_path: Path) -> None:
    s, remote, here = session(tmp_path)
    first, _ = ask(s, "compare them")
    assert first.backend == "local"
    second = s.retry_other(threading.Event())
    assert second.backend == "claude" and "/retry other" in second.decision.reason
    assert [e.answer.content for e in s.exchanges] == ["Claude's answer."]  # the retry replaces it in context
    assert remote.seen[-1][-1].content == "compare them"
    rows = Ledger.open().turns(session_id=s.session_id)
    assert [r.backend for r in rows] == ["local", "claude"]  # both costs are recorded


def test_the_window_slides_in_chunks_and_refuses_what_cannot_fit(tmp_path: Path) -> None:
    long = "word " * 30
    s, _, here = session(tmp_path, local={"answers": [long], "window_tokens": 1000}, claude={"window_tokens": 1000})
    slides = 0
    previous = None
    for i in range(40):
        result, _ = ask(s, f"@local question {i} " + "x " * 10)
        assert result.outcome == "ok"
        assembly = s.window("local")
        assert assembly.tokens <= assembly.budget
        if previous is not None and not assembly.slid:
            # No slide: the prompt grew at its end only, so the KV cache keeps its prefix.
            assert assembly.messages[: len(previous) - 1] == previous[:-1]
        slides += assembly.slid
        previous = assembly.messages
    # An exchange here is 92 scripted tokens; a slide frees a quarter of the 1,000-token
    # window (3-4 exchanges at once), so after it fills (turn 12) it slides every 4th turn.
    exchange = s.window("local").items[1].tokens + s.window("local").items[2].tokens
    assert exchange == 92
    assert 1 <= slides <= 1 + 40 * exchange / 250
    assert slides * 3 < 40  # never one turn per turn
    huge, _ = ask(s, "@local " + "y " * 1200)  # too big for every window: refused before any call
    assert huge.outcome == "error" and huge.error.kind == "context" and len(here.seen) == 40
    assert "tokens" in huge.error.message and "1,000-token window" in huge.error.message


def test_compact_pins_a_summary_of_the_dropped_turns(tmp_path: Path) -> None:
    s, _, here = session(tmp_path, local={"answers": ["word " * 20] * 12 + ["- earlier: x"], "window_tokens": 150})
    for i in range(12):
        ask(s, f"@local question {i}")
    dropped = s.window("local").first_kept  # where the window starts now
    assert dropped > 0
    note = s.compact(threading.Event())
    assert f"Compacted {dropped} turn" in note
    assert s.pinned[-1].content.startswith("Summary of the earlier conversation:")
    assert len(s.exchanges) == 12 - dropped
    result, _ = ask(s, "@local and now?")
    assert result.outcome == "ok"
    assert any(m.role == "system" and m.content.startswith("Summary of the earlier") for m in here.seen[-1])


def test_a_broken_router_plugin_is_reported_and_rules_decide(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text("raise ZeroDivisionError('division by zero')\n")
    config = Config()
    config = replace(config, router=replace(config.router, chain=("broken", "rules"), plugins_dir=str(plugins)))
    s, _, _ = session(tmp_path, config)
    result, seen = ask(s, "hi")
    assert result.outcome == "ok" and result.decision.decided_by == "rules"
    (notice,) = [e for e in seen if isinstance(e, Notice)]
    assert "broken" in notice.text and "ZeroDivisionError" in notice.text and "\n" not in notice.text


def test_warming_the_counters_readies_each_candidates_tokenizer_and_changes_no_window(tmp_path) -> None:
    """The TUI readies them while it waits for the first prompt (loading tiktoken's
    tables took 0.4 s of the first answer's time to first token)."""
    s, remote, here = session(tmp_path)
    here.load()
    asked: list[str] = []
    for backend in (remote, here):
        real = backend.count_tokens
        backend.count_tokens = lambda messages, real=real, name=backend.name: (asked.append(name), real(messages))[1]
    s.warm_counters()
    assert sorted(set(asked)) == ["claude", "local"]
    assert s.window("claude") is None and s.window("local") is None  # the turn's own state is untouched


def test_the_router_s_estimates_rest_on_bench_runs_before_any_turn(tmp_path: Path) -> None:
    """`assistant bench` on a fresh machine: the first turn's estimate uses what it measured."""
    from assistant.core.results import BenchResult

    with Ledger.open() as ledger:
        ledger.record_bench([
            BenchResult(at=1.0, machine="box", backend="local", model="scripted-model", case="short", runs=3,
                        prompt_tokens=100, completion_tokens=50, prompt_tps=500.0, generation_tps=40.0, ttft=0.25,
                        ttft_spread=0.01),
            BenchResult(at=1.0, machine="box", backend="local", model="another-model", case="short", runs=3,
                        prompt_tokens=100, completion_tokens=50, prompt_tps=500.0, generation_tps=999.0, ttft=0.01,
                        ttft_spread=0.01),
        ])
    s, _, _ = session(tmp_path)
    _, seen = ask(s, "hello")
    (decided,) = [e for e in seen if isinstance(e, RouteDecided)]
    local = decided.decision.estimate_for("local")
    assert local.basis.startswith("measured over 3 bench runs")  # the other model's runs are not counted
    claude = decided.decision.estimate_for("claude")
    assert claude.basis.startswith("no measured speed yet")  # a bench of one backend never stands in for another
    _, seen = ask(s, "hello again")
    (decided,) = [e for e in seen if isinstance(e, RouteDecided)]
    assert decided.decision.estimate_for("local").basis.startswith("measured over 3 bench runs + 1 turn")

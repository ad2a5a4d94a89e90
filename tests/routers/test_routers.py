"""The built-in routers on crafted turns with hand-built backend profiles."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.core.config import Config
from assistant.core.decisions import BackendProfile, BudgetState, Measured, RouteContext, RouteDecision, TurnRequest
from assistant.core.routing.chain import RouterChain, build_chain
from assistant.core.routing.discovery import load_router
from assistant.core.routing.protocol import estimate
from assistant.core.words import QUALITY
from assistant.routers.budget import BudgetRouter
from assistant.routers.privacy import PrivacyRouter
from assistant.routers.rules import RulesRouter

SONNET_IN, SONNET_OUT = 3e-6, 15e-6  # $ per token


def claude(**kw: object) -> BackendProfile:
    base = {
        "name": "claude", "model": "claude-sonnet-5-5", "available": True, "local": False,
        "context_tokens": 3000, "input_price": SONNET_IN, "output_price": SONNET_OUT,
    }
    return BackendProfile(**{**base, **kw})  # type: ignore[arg-type]


def local(**kw: object) -> BackendProfile:
    base = {"name": "local", "model": "SmolLM2-135M", "available": True, "local": True, "context_tokens": 3000}
    return BackendProfile(**{**base, **kw})  # type: ignore[arg-type]


def ctx(*backends: BackendProfile, budget: BudgetState | None = None) -> RouteContext:
    return RouteContext(backends or (claude(), local()), budget or BudgetState())


NO_KEY = {"available": False, "unavailable_reason": "no API key"}
rules = RulesRouter()
ask = TurnRequest("explain this")


# -- estimate ---------------------------------------------------------------------


def test_estimates_say_there_is_no_measured_speed() -> None:
    context = ctx()
    remote, mine = estimate(claude(), context), estimate(local(), context)
    assert (remote.cost, remote.seconds) == (None, None)
    assert "no measured speed yet" in remote.basis
    # a free machine costs $0 however long it runs; its time stays unknown
    assert (mine.cost, mine.seconds) == (0.0, None)
    assert "no measured speed yet" in mine.basis


def test_estimate_from_measured_figures() -> None:
    measured = Measured(turns=12, tokens_per_second=50.0, ttft=1.0, completion_tokens=500)
    e = estimate(claude(measured=measured, context_tokens=2000), ctx())
    # 1 s + 500 / 50 tok/s = 11 s; 2000 × $3/M + 500 × $15/M = $0.0135
    assert e.seconds == pytest.approx(11.0)
    assert e.cost == pytest.approx(0.0135)
    assert e.basis == "measured over 12 turns"


def test_estimate_borrows_the_answer_length_but_never_a_speed_or_a_price() -> None:
    other = local(measured=Measured(turns=3, tokens_per_second=20.0, ttft=0.5, completion_tokens=300))
    fast = claude(measured=Measured(turns=2, tokens_per_second=60.0, ttft=1.0))
    e = estimate(fast, ctx(fast, other))
    assert e.seconds == pytest.approx(1.0 + 300 / 60)  # the local model's answer length
    assert "answer length from other backends" in e.basis
    unpriced = replace(fast, input_price=None)
    e = estimate(unpriced, ctx(unpriced, other))
    assert e.cost is None and "no price for this model" in e.basis
    paid = local(machine_per_second=0.001)
    e = estimate(paid, ctx(paid))
    assert (e.cost, e.seconds) == (None, None)


# -- rules --------------------------------------------------------------------------


def test_long_context_goes_local() -> None:
    d = rules.route(ask, ctx(claude(context_tokens=11000), local(context_tokens=12000)))
    assert d.backend == "local"
    assert d.reason == "12,000 tokens > 10,000 → local"
    assert d.fallbacks == ("claude",)


def test_highest_quality_with_a_short_context_goes_to_claude() -> None:
    d = rules.route(replace(ask, flags=frozenset({QUALITY})), ctx(claude(context_tokens=3000), local()))
    assert d.backend == "claude"
    assert d.reason == "highest quality and 3,000 tokens < 8,000 → claude"
    assert d.fallbacks == ("local",)
    assert {e.backend for e in d.estimates} == {"claude", "local"}


def test_highest_quality_with_a_long_context_is_not_sent_by_that_rule() -> None:
    d = rules.route(replace(ask, flags=frozenset({QUALITY})), ctx(claude(context_tokens=9000), local()))
    assert d.backend == "local"
    assert "highest quality" not in d.reason


def test_thresholds_come_from_config() -> None:
    config = Config().with_overrides({"routers.rules.quality_max_context": 2000, "routers.rules.local_min_context": 2500})
    router = load_router("rules", config)
    d = router.route(replace(ask, flags=frozenset({QUALITY})), ctx())
    assert d.backend == "local" and d.reason == "3,000 tokens > 2,500 → local"


def test_batch_goes_local() -> None:
    d = rules.route(replace(ask, kind="batch", flags=frozenset({QUALITY})), ctx(claude(context_tokens=9000), local()))
    assert (d.backend, d.reason) == ("local", "batch work → local")


def test_forced_backend_wins() -> None:
    d = rules.route(replace(ask, kind="batch", forced="claude"), ctx(claude(), local(context_tokens=20000)))
    assert (d.backend, d.reason) == ("claude", "you asked for claude")
    d = rules.route(replace(ask, forced="local", flags=frozenset({QUALITY})), ctx())
    assert (d.backend, d.reason) == ("local", "you asked for local")


def test_forced_but_unavailable_is_skipped_and_said() -> None:
    d = rules.route(replace(ask, forced="claude"), ctx(claude(**NO_KEY), local()))
    assert d.backend == "local"
    assert d.reason == "you asked for claude, but claude is unavailable (no API key) → local"


def test_claude_unavailable_goes_local_and_says_why() -> None:
    d = rules.route(replace(ask, flags=frozenset({QUALITY})), ctx(claude(**NO_KEY), local()))
    assert d.backend == "local"
    assert "claude is unavailable (no API key)" in d.reason
    assert d.fallbacks == ()
    d = rules.route(ask, ctx(claude(**NO_KEY), local()))
    assert d.backend == "local"
    assert d.reason == "claude is unavailable (no API key); only local is available → local"


def test_long_context_with_local_unavailable_goes_to_the_next_backend() -> None:
    d = rules.route(ask, ctx(claude(), local(context_tokens=12000, available=False, unavailable_reason="no model")))
    assert d.backend == "claude"
    assert d.reason == "12,000 tokens > 10,000 → local, but local is unavailable (no model) → claude"


def test_lowest_cost_times_time_wins_claude() -> None:
    # local: 2 s + 500 / 5 tok/s = 102 s at $0.001/s = $0.102     → cost × time 10.4
    # claude: 1 s + 500 / 50 tok/s = 11 s;
    #         2000 × $3/M + 500 × $15/M = $0.0135                  → cost × time 0.1485
    slow = local(context_tokens=2000, machine_per_second=0.001,
                 measured=Measured(turns=8, tokens_per_second=5.0, ttft=2.0, completion_tokens=500))
    fast = claude(context_tokens=2000, measured=Measured(turns=12, tokens_per_second=50.0, ttft=1.0, completion_tokens=500))
    d = rules.route(ask, ctx(fast, slow))
    assert d.backend == "claude"
    assert d.reason == "lowest cost × time: claude $0.0135 × 11.00 s vs local $0.1020 × 102.00 s → claude"
    assert d.estimate_for("local").cost == pytest.approx(0.102)  # type: ignore[union-attr]
    assert d.estimate_for("claude").seconds == pytest.approx(11.0)  # type: ignore[union-attr]


def test_lowest_cost_times_time_wins_local() -> None:
    # local: 0.2 s + 400 / 50 tok/s = 8.2 s at $0.0001/s = $0.00082  → 0.0067
    # claude: 1 s + 400 / 60 tok/s = 7.67 s;
    #         2000 × $3/M + 400 × $15/M = $0.012                     → 0.092
    quick = local(context_tokens=2000, machine_per_second=0.0001,
                  measured=Measured(turns=5, tokens_per_second=50.0, ttft=0.2, completion_tokens=400))
    remote = claude(context_tokens=2000, measured=Measured(turns=5, tokens_per_second=60.0, ttft=1.0, completion_tokens=400))
    d = rules.route(ask, ctx(remote, quick))
    assert d.backend == "local"
    assert d.reason.startswith("lowest cost × time: local $0.0008 × 8.20 s vs claude $0.0120 × 7.67 s")


def test_no_measured_data_goes_local_honestly() -> None:
    d = rules.route(ask, ctx())
    assert d.backend == "local"
    assert d.reason == "no measured speed for claude yet; no measured speed for local yet; local costs $0 → local"
    assert all("no measured speed yet" in e.basis for e in d.estimates)


def test_nothing_known_at_all_goes_local_and_says_so() -> None:
    d = rules.route(ask, ctx(claude(), local(machine_per_second=0.001)))
    assert d.backend == "local"
    assert d.reason.endswith("nothing measured to compare, local first → local")


def test_known_time_decides_when_costs_are_unknown() -> None:
    m = Measured(turns=4, tokens_per_second=40.0, ttft=0.5, completion_tokens=200)
    d = rules.route(ask, ctx(claude(input_price=None, measured=m), local(machine_per_second=0.01,
                    measured=replace(m, tokens_per_second=10.0))))
    # claude 0.5 + 200/40 = 5.5 s (no price); local 0.5 + 200/10 = 20.5 s at $0.01/s = $0.205
    assert d.backend == "claude"
    assert d.reason == "no price for claude; claude is faster (5.50 s vs local 20.50 s) → claude"


# -- fixed ------------------------------------------------------------------------


def test_fixed_always_the_configured_backend() -> None:
    router = load_router("fixed", Config())
    d = router.route(replace(ask, flags=frozenset({QUALITY})), ctx())
    assert (d.backend, d.reason, d.allow_any_fallback) == ("local", "fixed: always local", False)
    router = load_router("fixed", Config().with_overrides({"routers.fixed.backend": "claude"}))
    assert router.route(ask, ctx()).backend == "claude"


# -- privacy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        (".env", ".env*"),
        ("config/.env.production", ".env*"),
        ("keys/id_rsa", "id_*"),
        ("certs/server.pem", "*.pem"),
        ("secrets/db/password.txt", "secrets/**"),
        ("app/secrets/token", "secrets/**"),
    ],
)
def test_secret_files_stay_local(tmp_path: Path, path: str, pattern: str) -> None:
    router = load_router("privacy", Config(), project_root=tmp_path)
    d = router.route(replace(ask, files=("src/main.py", path)), ctx())
    assert d is not None
    assert d.backend == "local"
    assert (d.fallbacks, d.allow_any_fallback) == ((), False)
    assert d.reason == f"privacy: {path} matches {pattern} → local only"


def test_normal_files_pass(tmp_path: Path) -> None:
    router = load_router("privacy", Config(), project_root=tmp_path)
    assert router.route(replace(ask, files=("src/main.py", "README.md", "environment.py")), ctx()) is None
    assert router.route(ask, ctx()) is None


def test_absolute_paths_inside_the_project_match_like_relative_ones(tmp_path: Path) -> None:
    router = PrivacyRouter(("/config/*.toml",), git_ignored=False, project_root=tmp_path)
    d = router.route(replace(ask, files=(str(tmp_path / "config" / "prod.toml"),)), ctx())
    assert d is not None and d.backend == "local"
    assert router.route(replace(ask, files=("lib/config/prod.toml",)), ctx()) is None  # anchored


def test_privacy_only_names_local_backends(tmp_path: Path) -> None:
    gpu = local(name="gpu")
    router = load_router("privacy", Config(), project_root=tmp_path)
    d = router.route(replace(ask, files=(".env", "id_ed25519")), ctx(claude(), local(), gpu))
    assert d is not None
    assert (d.backend, d.fallbacks, d.allow_any_fallback) == ("local", ("gpu",), False)
    assert d.reason == "privacy: .env matches .env* (and 1 more file) → local only"


def test_privacy_never_goes_to_the_cloud_even_without_a_local_backend(tmp_path: Path) -> None:
    router = load_router("privacy", Config(), project_root=tmp_path)
    d = router.route(replace(ask, files=(".env",)), ctx(claude(), local(available=False, unavailable_reason="no model")))
    assert d is not None
    assert (d.backend, d.fallbacks, d.allow_any_fallback) == ("local", (), False)
    assert d.reason == "privacy: .env matches .env* → local only, but local is unavailable (no model)"


def test_privacy_may_use_a_private_server_but_never_a_public_one(tmp_path: Path) -> None:
    ours = BackendProfile("gpu", "llama-70b", True, local=False, private=True, priced_by_time=True)
    theirs = BackendProfile("vllm", "llama-70b", True, local=False)
    router = load_router("privacy", Config(), project_root=tmp_path)
    secret = replace(ask, files=(".env",))
    d = router.route(secret, ctx(claude(), theirs, ours, local()))
    assert d is not None and (d.backend, d.fallbacks, d.allow_any_fallback) == ("local", ("gpu",), False)
    d = router.route(secret, ctx(claude(), theirs, ours, local(available=False, unavailable_reason="no model")))
    assert d is not None and (d.backend, d.fallbacks) == ("gpu", ())  # this machine first, then our server


def test_git_ignored_files_stay_local(tmp_path: Path) -> None:
    from git import Repo

    Repo.init(tmp_path).close()
    (tmp_path / ".gitignore").write_text("build/\n*.log\n")
    project = tmp_path / "app"  # the repository is found from a folder inside it
    project.mkdir()
    router = load_router("privacy", Config(), project_root=project)
    d = router.route(replace(ask, files=("main.py", "debug.log")), ctx())
    assert d is not None
    assert (d.backend, d.fallbacks, d.allow_any_fallback) == ("local", (), False)
    assert d.reason == "privacy: debug.log is ignored by git → local only"
    d = router.route(replace(ask, files=(str(tmp_path / "build" / "out.txt"),)), ctx())
    assert d is not None and "is ignored by git" in d.reason
    assert router.route(replace(ask, files=("main.py", "/elsewhere/x.log")), ctx()) is None
    off = replace(router, git_ignored=False)
    assert off.route(replace(ask, files=("debug.log",)), ctx()) is None


def test_no_repository_skips_the_git_check(tmp_path: Path) -> None:
    router = load_router("privacy", Config(), project_root=tmp_path)
    assert router.route(replace(ask, files=("debug.log",)), ctx()) is None


# -- budget ---------------------------------------------------------------------------


def test_session_budget_nearly_spent_goes_local() -> None:
    d = BudgetRouter(session_dollars=1.0).route(ask, ctx(budget=BudgetState(session_spent=0.92)))
    assert d is not None
    assert d.reason == "budget: $0.92 of the $1.00 session cap spent → local"
    assert (d.backend, d.fallbacks, d.allow_any_fallback) == ("local", (), False)


def test_daily_budget_nearly_spent_goes_local() -> None:
    config = Config().with_overrides({"routers.budget.session_dollars": 1, "routers.budget.daily_dollars": 5})
    d = load_router("budget", config).route(ask, ctx(budget=BudgetState(session_spent=0.10, day_spent=4.60)))
    assert d is not None
    assert (d.backend, d.reason) == ("local", "budget: $4.60 of the $5.00 daily cap spent → local")


@pytest.mark.parametrize(
    ("router", "budget"),
    [
        (BudgetRouter(session_dollars=1.0, daily_dollars=5.0), BudgetState(session_spent=0.50, day_spent=4.0)),
        (BudgetRouter(), BudgetState(session_spent=99.0, day_spent=99.0)),  # no caps (0 = none)
    ],
)
def test_under_the_caps_the_budget_passes(router: BudgetRouter, budget: BudgetState) -> None:
    assert router.route(ask, ctx(budget=budget)) is None


# -- the chain -----------------------------------------------------------------------


class Boom:
    name = "boom"

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        raise ValueError("kaput\nsecond line")


def default_chain(tmp_path: Path) -> RouterChain:
    config = Config().with_overrides({"routers.budget.daily_dollars": 10})
    chain, problems = build_chain(config, project_root=tmp_path)
    assert problems == []
    assert chain.names == ["privacy", "budget", "quality", "rules"]
    return chain


def test_privacy_beats_rules(tmp_path: Path) -> None:
    turn = replace(ask, files=(".env",), flags=frozenset({QUALITY}))
    d = default_chain(tmp_path).route(turn, ctx())
    assert (d.backend, d.decided_by) == ("local", "privacy")


def test_budget_beats_rules(tmp_path: Path) -> None:
    turn = replace(ask, forced="claude")
    d = default_chain(tmp_path).route(turn, ctx(budget=BudgetState(day_spent=9.5)))
    assert (d.backend, d.decided_by) == ("local", "budget")


def test_rules_decide_when_the_others_pass(tmp_path: Path) -> None:
    d = default_chain(tmp_path).route(replace(ask, flags=frozenset({QUALITY})), ctx())
    assert (d.backend, d.decided_by) == ("claude", "rules")


def test_a_router_that_raises_is_reported_and_skipped() -> None:
    chain = RouterChain([Boom(), BudgetRouter()])
    d = chain.route(ask, ctx())
    assert (d.backend, d.decided_by) == ("local", "rules")
    assert chain.errors == ["router 'boom' failed: ValueError: kaput second line"]


def test_a_router_returning_junk_is_reported() -> None:
    class Junk:
        name = "junk"

        def route(self, turn: TurnRequest, context: RouteContext) -> object:
            return "claude"

    chain = RouterChain([Junk()])  # type: ignore[list-item]
    assert chain.route(ask, ctx()).decided_by == "rules"
    assert chain.errors == ["router 'junk' failed: TypeError: returned a str, not a RouteDecision or None"]


def test_a_decision_keeps_its_own_decided_by() -> None:
    class Named:
        name = "named"

        def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision:
            return RouteDecision("claude", "because", decided_by="named/v2")

    assert RouterChain([Named()]).route(ask, ctx()).decided_by == "named/v2"


def test_forcing_an_unknown_backend_is_said_and_the_rules_go_on() -> None:
    d = rules.route(replace(ask, forced="gpt", kind="batch"), ctx())
    assert (d.backend, d.reason) == ("local", "you asked for gpt, but there is no backend named gpt; batch work → local")


def test_with_nothing_available_the_local_backend_is_named_to_say_why() -> None:
    d = rules.route(ask, ctx(claude(**NO_KEY), local(available=False, unavailable_reason="no model")))
    assert (d.backend, d.fallbacks) == ("local", ())
    assert d.reason == (
        "claude is unavailable (no API key); local is unavailable (no model) → local, which will say why"
    )

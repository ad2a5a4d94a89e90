"""Routers found through entry points and plugin files, loaded only when named."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import assistant
from assistant.core.config import Config, ConfigError
from assistant.core.decisions import BackendProfile, Measured, RouteContext, TurnRequest
from assistant.core.routing.chain import build_chain
from assistant.core.routing.discovery import (
    RouterInfo,
    check_settings,
    list_routers,
    load_router,
    plugin_dirs,
)
from assistant.core.routing.protocol import RouterError
from assistant.routers.privacy import PrivacyRouter
from assistant.routers.rules import RulesRouter

REPO_PLUGINS = Path(assistant.__file__).resolve().parents[1] / "plugins"
BUILT_INS = {"rules", "budget", "privacy", "fixed"}

MINE = '''
from assistant.core.routing.protocol import RouteDecision

class Mine:
    name = "mine"

    def route(self, turn, context):
        return RouteDecision("claude", "mine: always claude")

ROUTER = Mine()
'''


def context() -> RouteContext:
    return RouteContext(
        (
            BackendProfile("claude", "claude-sonnet-5-5", True, local=False, context_tokens=1000,
                           input_price=3e-6, output_price=15e-6),
            BackendProfile("local", "SmolLM2-135M", True, local=True, context_tokens=1000),
        )
    )


@pytest.fixture
def plugins(tmp_path: Path) -> tuple[Config, Path]:
    folder = tmp_path / "plugins"
    folder.mkdir()
    return Config().with_overrides({"router.plugins_dir": str(folder)}), folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    return path


def test_built_ins_are_entry_points() -> None:
    found = {r.name: r for r in list_routers(Config())}
    assert BUILT_INS <= set(found)
    assert found["rules"] == RouterInfo("rules", "entry point assistant", "assistant.routers.rules:RulesRouter")


def test_listing_imports_no_router() -> None:
    code = (
        "import sys\n"
        "from assistant.core.config import Config\n"
        "from assistant.core.routing.discovery import list_routers\n"
        "names = [r.name for r in list_routers(Config())]\n"
        "print('cheapest' in names, sorted(m for m in sys.modules if m.startswith(('assistant.routers', '_assistant_router'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "[]"]


def test_plugin_files_are_listed_without_importing_them(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    boom = write(folder, "boom", "1 / 0\n")
    write(folder, "_helpers", "raise SystemExit('never imported')\n")
    (folder / "notes.txt").write_text("not a plugin")
    found = {r.name: r for r in list_routers(config)}
    assert found["boom"] == RouterInfo("boom", str(boom), f"{boom}:ROUTER")
    assert found["cheapest"].source == str(REPO_PLUGINS / "cheapest.py")
    assert "_helpers" not in found and "notes" not in found
    assert "_assistant_router_plugin_boom" not in sys.modules


def test_plugin_dirs(plugins: tuple[Config, Path], assistant_home: Path) -> None:
    config, folder = plugins
    assert plugin_dirs(config) == [folder, REPO_PLUGINS]
    assert plugin_dirs(Config())[0] == assistant_home / "config" / "plugins"


def test_a_broken_plugin_fails_in_one_line(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    write(folder, "boom", "1 / 0\n")
    with pytest.raises(RouterError) as err:
        load_router("boom", config)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("router 'boom' (")
    assert message.endswith("boom.py) failed to load: ZeroDivisionError: division by zero")
    assert "_assistant_router_plugin_boom" not in sys.modules


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x = 1\n", "AttributeError: no module-level ROUTER"),
        ("ROUTER = 42\n", "TypeError: ROUTER is a int, not a router, class or factory"),
        ("def ROUTER(config):\n    return object()\n", "TypeError: object is not a router"),
        ("def broken(:\n", "SyntaxError:"),
    ],
)
def test_a_plugin_that_is_not_a_router_fails_in_one_line(plugins: tuple[Config, Path], text: str, error: str) -> None:
    config, folder = plugins
    write(folder, "odd", text)
    with pytest.raises(RouterError, match=r"^router 'odd' \(.*odd\.py\) failed to load: ") as err:
        load_router("odd", config)
    assert error in str(err.value) and "\n" not in str(err.value)


def test_unknown_router_lists_what_is_installed(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    write(folder, "mine", MINE)
    with pytest.raises(RouterError) as err:
        load_router("nope", config)
    assert str(err.value) == "no router named 'nope' (installed: budget, cheapest, fixed, mine, privacy, quality, rules)"


def test_a_plugin_file_decides_in_a_chain(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    write(folder, "mine", MINE)
    chain, problems = build_chain(config.with_overrides({"router.chain": ["privacy", "mine", "rules"]}))
    assert problems == [] and chain.names == ["privacy", "mine", "rules"]
    decision = chain.route(TurnRequest("hi"), context())
    assert (decision.backend, decision.decided_by, decision.reason) == ("claude", "mine", "mine: always claude")


def test_a_factory_plugin_gets_the_config(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    write(folder, "quick", '''
        from assistant.routers.fixed import FixedRouter

        def ROUTER(config):
            return FixedRouter(config.general.backend)
    ''')
    router = load_router("quick", config.with_overrides({"general.backend": "claude"}))
    assert router.route(TurnRequest("hi"), context()).backend == "claude"


OPTIONED = '''
    from dataclasses import dataclass

    from assistant.core.options import setting
    from assistant.routers.fixed import FixedRouter


    @dataclass(frozen=True, slots=True)
    class Options:
        target: str = setting("local", "Who takes every turn.")
        share: float = setting(0.5, "A share.", minimum=0, maximum=1)


    class Mine:
        Options = Options

        @classmethod
        def from_config(cls, config, options):
            return FixedRouter(options.target)


    ROUTER = Mine
'''


def test_a_plugin_file_s_options_are_read_from_its_table_and_checked(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    write(folder, "optioned", OPTIONED)
    assert load_router("optioned", config).route(TurnRequest("hi"), context()).backend == "local"  # the default
    config = config.with_overrides({"routers.optioned.target": "claude"})
    assert load_router("optioned", config).route(TurnRequest("hi"), context()).backend == "claude"
    assert check_settings(config) == []
    wrong = config.with_overrides({"routers.optioned.share": 2})
    with pytest.raises(RouterError) as caught:
        load_router("optioned", wrong)
    assert str(caught.value) == "command line: routers.optioned.share: must be from 0 to 1, got 2"
    with pytest.raises(ConfigError, match=r"^command line: routers.optioned.share: must be from 0 to 1, got 2$"):
        check_settings(wrong)  # at start-up, before any turn


def test_a_user_file_replaces_the_shipped_example(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    write(folder, "cheapest", MINE)
    assert load_router("cheapest", config).route(TurnRequest("hi"), context()).reason == "mine: always claude"


def test_the_shipped_cheapest_plugin_loads_and_decides() -> None:
    router = load_router("cheapest", Config())
    assert router.name == "cheapest"
    # nothing measured: the free local model surely costs least
    decision = router.route(TurnRequest("hi"), context())
    assert decision is not None
    assert (decision.backend, decision.reason) == ("local", "cheapest: local $0 → local")
    # measured: claude 1000 × $3/M + 200 × $15/M = $0.006; local 10 s at $0.01/s = $0.10
    measured = Measured(turns=3, tokens_per_second=20.0, ttft=0.0, completion_tokens=200)
    claude, local = context().backends
    paid = RouteContext((
        BackendProfile(**{**_fields(claude), "measured": measured}),
        BackendProfile(**{**_fields(local), "measured": measured, "machine_per_second": 0.01}),
    ))
    decision = router.route(TurnRequest("hi"), paid)
    assert decision is not None
    assert (decision.backend, decision.reason) == ("claude", "cheapest: claude $0.0060 (vs local $0.1000) → claude")
    # its one setting: decide only when the saving is worth it ($0.094 here)
    worth = Config().with_overrides({"routers.cheapest.min_saving": 0.05})
    assert load_router("cheapest", worth).route(TurnRequest("hi"), paid) is not None
    not_worth = Config().with_overrides({"routers.cheapest.min_saving": 0.1})
    assert load_router("cheapest", not_worth).route(TurnRequest("hi"), paid) is None


def test_the_shipped_cheapest_plugin_passes_when_it_does_not_know() -> None:
    router = load_router("cheapest", Config())
    claude, local = context().backends
    unknown = RouteContext((claude, BackendProfile(**{**_fields(local), "machine_per_second": 0.01})))
    assert router.route(TurnRequest("hi"), unknown) is None


def _fields(profile: BackendProfile) -> dict[str, object]:
    return {name: getattr(profile, name) for name in BackendProfile.__slots__}  # type: ignore[attr-defined]


def test_build_chain_reports_a_broken_name_and_still_works(plugins: tuple[Config, Path]) -> None:
    config, folder = plugins
    write(folder, "boom", "1 / 0\n")
    chain, problems = build_chain(config.with_overrides({"router.chain": ["privacy", "nope", "boom", "budget"]}))
    assert chain.names == ["privacy", "budget"]
    assert len(problems) == 2
    assert problems[0].startswith("no router named 'nope' (installed: ")
    assert problems[1].endswith("boom.py) failed to load: ZeroDivisionError: division by zero")
    decision = chain.route(TurnRequest("hi", files=(".env",)), context())
    assert (decision.backend, decision.decided_by) == ("local", "privacy")
    assert chain.route(TurnRequest("hi"), context()).decided_by == "rules"


def test_build_chain_with_nothing_left_is_rules(plugins: tuple[Config, Path]) -> None:
    config, _ = plugins
    chain, problems = build_chain(config.with_overrides({"router.chain": ["nope"]}))
    assert len(problems) == 1
    assert chain.names == ["rules"]
    assert isinstance(chain.routers[0], RulesRouter)


def test_the_project_root_reaches_the_privacy_router(tmp_path: Path) -> None:
    router = load_router("privacy", Config(), project_root=tmp_path)
    assert isinstance(router, PrivacyRouter) and router.project_root == tmp_path
    chain, _ = build_chain(Config(), project_root=tmp_path)
    assert chain.routers[0].project_root == tmp_path  # type: ignore[attr-defined]

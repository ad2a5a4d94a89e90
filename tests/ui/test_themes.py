"""Themes as data files: the shipped ones load and render, a broken user theme
is skipped and reported, and /theme switches and saves the choice.

Update the screenshots after an intended change with:
    pytest tests/ui/test_themes.py --snapshot-update
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES

from assistant.backends.scripted import ScriptedBackend
from assistant.core import config as config_mod
from assistant.core.config import Config
from assistant.core.paths import Paths
from assistant.ui.app import make_app
from assistant.ui.themes import ThemeError, load_themes, parse_theme
from tests.ui.helpers import send, transcript_text, wait_for
from tests.ui.test_snapshots import ANSWER, WorkerClock

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "assistant"
SHIPPED = ("assistant-dark", "assistant-light", "assistant-solarized", "assistant-high-contrast")
GOOD = 'name = "mine"\ndark = true\nprimary = "#ff8800"\n'


def themed(name: str) -> Config:
    config = Config()
    return replace(config, ui=replace(config.ui, theme=name))


def user_themes() -> Path:
    folder = Paths.resolve().config_dir / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- loading ---------------------------------------------------------------------


def test_every_shipped_theme_loads_and_none_shadows_a_textual_one() -> None:
    themes, problems = load_themes(None)
    assert problems == []
    names = [t.name for t in themes]
    assert sorted(names) == sorted(SHIPPED)
    assert len(names) == len(list((PACKAGE / "themes").glob("*.toml")))  # each file is read
    assert not set(names) & set(BUILTIN_THEMES)
    assert any(not t.dark for t in themes) and any(t.dark for t in themes)
    for theme in themes:  # every colour set, so the transcript's Rich styles never fall back
        assert all(getattr(theme, c) for c in ("primary", "accent", "foreground", "background", "error"))


def test_shipped_themes_are_also_read_through_importlib_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the package is not a plain folder (zipped), importlib.resources reads it,
    and finds there the files of assistant/themes/."""
    from importlib.resources import files

    import assistant.themes

    shipped = sorted(e.name for e in files("assistant.themes").iterdir() if e.name.endswith(".toml"))
    assert shipped == sorted(p.name for p in (PACKAGE / "themes").glob("*.toml"))
    monkeypatch.setattr(assistant.themes, "__file__", "/nowhere.zip/assistant/themes/__init__.py")
    themes, problems = load_themes(None)
    assert sorted(t.name for t in themes) == sorted(SHIPPED) and problems == []


def test_a_broken_user_theme_is_skipped_and_reported_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "bad.toml").write_text('name = "bad"\nprimary = "#123456"\nbackground = "blu"\n')
    (folder / "mine.toml").write_text(GOOD)
    (folder / "override.toml").write_text('name = "assistant-dark"\nprimary = "#00ff00"\n')
    (folder / "notes.txt").write_text("not a theme")
    themes, problems = load_themes(folder)
    assert problems == ["themes/bad.toml: background: not a colour: 'blu'"]
    by_name = {t.name: t for t in themes}
    assert set(by_name) == {*SHIPPED, "mine"}
    assert by_name["assistant-dark"].primary == "#00FF00"  # the user's replaces the shipped one


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "x"\nprimary = ', "TOML syntax error"),
        ('name = "x"\n', "primary: missing"),
        ('primary = "#fff"\n', "name: expected a non-empty string"),
        ('name = "x"\nprimary = "#fff"\ncolour = "red"\n', "colour: unknown key (known: name, dark,"),
        ('name = "x"\nprimary = "#fff"\ndark = "yes"\n', "dark: expected true or false"),
        ('name = "x"\nprimary = 3\n', "primary: not a colour: 3"),
        ('name = "x"\nprimary = "#ff000080"\n', "primary: must be opaque"),
        ('name = "x"\nprimary = "#fff"\n[variables]\nborder = "nope 50%"\n', "variables.border: not a colour"),
        ('name = "x"\nprimary = "#fff"\n[variables]\nlink-style = "bold;"\n', "variables.link-style: not a text style"),
        ('name = "x"\nprimary = "#fff"\nvariables = 1\n', "variables: expected a [variables] table"),
    ],
)
def test_theme_file_problems_name_the_key(text: str, problem: str) -> None:
    with pytest.raises(ThemeError) as exc:
        parse_theme(text)
    assert problem in str(exc.value) and "\n" not in str(exc.value)


def test_colours_are_stored_as_hex_and_variables_kept() -> None:
    theme = parse_theme(
        'name = " spaced "\ndark = false\nprimary = "rgb(255, 0, 0)"\naccent = "#0f0"\n'
        '[variables]\nborder = "#ff0000 50%"\ntext = "auto 87%"\nlink-style = "bold underline"\n'
    )
    assert (theme.name, theme.dark, theme.primary, theme.accent) == ("spaced", False, "#FF0000", "#00FF00")
    assert theme.variables["border"] == "#ff0000 50%"


# -- packaging -------------------------------------------------------------------


def test_discovery_finds_every_folder_of_modules_and_the_data_globs_every_data_file() -> None:
    """pyproject finds the packages rather than listing them, with namespace packages
    off: a folder of modules without an `__init__.py` would be left out of the wheel
    without a word, and so would a file beside the modules (a theme, a stylesheet, a
    data file) that no package-data glob names."""
    from setuptools import find_packages

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    find = setuptools["packages"]["find"]
    assert find["namespaces"] is False
    found = set(find_packages(str(ROOT), include=find["include"]))
    # Under data/evals/, Python files are data: the evaluation tasks' sources and tests (never imported).
    fixtures = PACKAGE / "data" / "evals"
    folders = {p.parent.relative_to(ROOT).parts for p in PACKAGE.rglob("*.py") if fixtures not in p.parents}
    assert found == {".".join(parts) for parts in folders}
    assert "assistant.themes" in found
    data = {p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and (p.suffix not in (".py", ".pyc") or fixtures in p.parents)}  # fmt: skip
    globbed = {p for pattern in setuptools["package-data"]["assistant"] for p in PACKAGE.glob(pattern)
               if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip
    assert data == globbed and any(p.parent.name == "themes" for p in globbed)


def test_the_top_level_themes_folder_is_a_link_to_the_package() -> None:
    """A person finds the shipped themes at the top level, where the layout names them."""
    link = ROOT / "themes"
    assert link.is_symlink() and not Path(os.readlink(link)).is_absolute()
    assert link.resolve() == (PACKAGE / "themes").resolve()


# -- the app ---------------------------------------------------------------------


def answered(app):
    async def chat(pilot) -> None:
        await wait_for(pilot, lambda: app.state == "ready")
        app.clear_notifications()
        await send(pilot, "How do I square numbers?")
        await wait_for(pilot, lambda: app.session.last is not None and not app.busy)
        await pilot.pause(0.1)
        app.clear_notifications()  # "model loaded" and the like: not what these pictures are about
        await pilot.pause()

    return chat


def snap_theme(snap_compare, name: str) -> bool:
    app = make_app(themed(name), backend=ScriptedBackend([ANSWER]), clock=WorkerClock(), ledger=False)
    assert app.theme == name
    return snap_compare(app, terminal_size=(100, 30), run_before=answered(app))


def test_theme_assistant_dark(snap_compare) -> None:
    """assistant-dark: a near-black blue-grey screen; the question with a blue
    bar, the answer's label in amber, the code block highlighted, the prompt's
    rounded border blue, and a slate status bar with light text."""
    assert snap_theme(snap_compare, "assistant-dark")


def test_theme_assistant_light(snap_compare) -> None:
    """assistant-light: warm off-white paper with near-black text; the question's
    bar and the prompt's border deep blue, the answer's label dark orange, the
    status bar light grey with dark text; every line easy to read."""
    assert snap_theme(snap_compare, "assistant-light")


def test_theme_assistant_solarized(snap_compare) -> None:
    """assistant-solarized: Solarized's dark teal-blue background with grey-cyan
    text; the question's bar and the prompt's border blue, the answer's label
    yellow, the status bar a lighter teal."""
    assert snap_theme(snap_compare, "assistant-solarized")


def test_theme_assistant_high_contrast(snap_compare) -> None:
    """assistant-high-contrast: pure black with full-white text; the question's
    bar and the prompt's border bright yellow, the answer's label bright cyan,
    the status bar dark grey with white text."""
    assert snap_theme(snap_compare, "assistant-high-contrast")


async def test_a_broken_user_theme_is_a_notification_and_the_rest_load() -> None:
    (user_themes() / "x.toml").write_text('name = "x"\nprimary = "#123456"\nbackground = "blu"\n')
    (user_themes() / "mine.toml").write_text(GOOD)
    app = make_app(themed("mine"), backend=ScriptedBackend())
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "mine"
        assert set(SHIPPED) <= set(app.available_themes)
        problems = [n.message for n in app._notifications if n.title == "Theme problems"]
        assert problems == ["themes/x.toml: background: not a colour: 'blu'"]


async def test_an_unknown_configured_theme_is_reported_and_the_default_kept() -> None:
    app = make_app(themed("no-such-theme"), backend=ScriptedBackend())
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        assert any("no theme named 'no-such-theme'" in n.message for n in app._notifications)


async def test_theme_command_switches_live_and_saves_the_choice() -> None:
    path = Paths.resolve().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('# my settings\n[general]\nbackend = "local"  # keep\n\n[ui]\ntheme = "textual-dark"\n')
    app = make_app(Config(), backend=ScriptedBackend())
    async with app.run_test() as pilot:
        await send(pilot, "/theme assistant-light")
        await wait_for(pilot, lambda: "Theme: assistant-light" in transcript_text(app))
        assert app.theme == "assistant-light" and app.config.ui.theme == "assistant-light"
    text = path.read_text()
    assert text == '# my settings\n[general]\nbackend = "local"  # keep\n\n[ui]\ntheme = "assistant-light"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config_mod.load(path).ui.theme == "assistant-light"


async def test_theme_command_creates_the_config_file_when_missing() -> None:
    path = Paths.resolve().config_file
    app = make_app(Config(), backend=ScriptedBackend())
    async with app.run_test() as pilot:
        await send(pilot, "/theme assistant-high-contrast")
        await wait_for(pilot, lambda: "Theme: assistant-high-contrast" in transcript_text(app))
    assert config_mod.load(path).ui.theme == "assistant-high-contrast"
    assert "# Textual theme name." in path.read_text()  # the commented defaults around it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_theme_command_refuses_an_unknown_name_with_the_list() -> None:
    app = make_app(themed("assistant-dark"), backend=ScriptedBackend())
    async with app.run_test() as pilot:
        await send(pilot, "/theme nope")
        await wait_for(pilot, lambda: "No theme named 'nope'" in transcript_text(app))
        assert app.theme == "assistant-dark"
        note = transcript_text(app)
        assert all(name in note for name in (*SHIPPED, "textual-dark", "nord"))
    assert not Paths.resolve().config_file.exists()


async def test_theme_command_lists_the_themes_marking_the_current() -> None:
    app = make_app(themed("assistant-solarized"), backend=ScriptedBackend())
    async with app.run_test() as pilot:
        await send(pilot, "/theme")
        await wait_for(pilot, lambda: "Theme: assistant-solarized" in transcript_text(app))
        note = transcript_text(app)
        assert "assistant-solarized (current)" in note
        assert all(name in note for name in SHIPPED) and "textual-light" in note


# -- writing one setting -----------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('[ui]\ntheme = "a"  # old\n', '[ui]\ntheme = "b"\n'),
        ("# c\n[ui] # the look\nstatus_refresh_hz = 4.0\n[cost]\n", '# c\n[ui] # the look\ntheme = "b"\nstatus_refresh_hz = 4.0\n[cost]\n'),
        ('[general]\n# theme = "x"\n', '[general]\n# theme = "x"\n\n[ui]\ntheme = "b"\n'),
        ('[general]\ntheme = "x"\n[ui]\n', '[general]\ntheme = "x"\n[ui]\ntheme = "b"\n'),
    ],
)
def test_with_setting_changes_one_line(before: str, after: str) -> None:
    assert config_mod.with_setting(before, "ui", "theme", "b") == after


def test_with_setting_finds_a_plugin_s_dotted_section() -> None:
    text = "[backends.claude]\nmodel = 'm'\n"
    assert config_mod.with_setting(text, "backends.claude", "api_key", "k") == '[backends.claude]\napi_key = "k"\nmodel = \'m\'\n'


async def test_code_colours_follow_a_live_theme_switch() -> None:
    from assistant.ui.widgets import rendered

    app = make_app(Config(), backend=ScriptedBackend([ANSWER]), ledger=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert rendered._code_theme == rendered.CODE_THEME
        app.theme = "assistant-light"
        await pilot.pause()
        await pilot.pause()
        assert rendered._code_theme == rendered.LIGHT_CODE_THEME
        app.theme = "assistant-dark"
        await pilot.pause()
        await pilot.pause()
        assert rendered._code_theme == rendered.CODE_THEME

"""Themes as data: TOML files turned into Textual `Theme` objects.

The shipped themes are the package `assistant.themes` (assistant/themes/, which
the top-level `themes` links to); a person adds or overrides one with a `*.toml`
file in the config directory's `themes/` folder. A theme file is flat:

    name = "my-theme"
    dark = true
    primary = "#4aa8e0"     # and secondary, accent, foreground, background,
                            # surface, panel, success, warning, error, boost
    [variables]             # optional: any CSS variable Textual derives
    footer-key-foreground = "#4aa8e0"

A broken file is skipped and reported as one line; the others still load.
Reading all of them is a few small TOML parses: cheap enough for start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

import assistant.themes as shipped
from assistant.core.text import named, shown
from assistant.core.tomlfile import TomlProblem, parse_toml, read_toml_text

SHIPPED_PACKAGE = "assistant.themes"
COLOURS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "success",
    "warning",
    "error",
    "boost",
)
KEYS = ("name", "dark", *COLOURS, "variables")
_PERCENT = re.compile(r"\d{1,3}(\.\d+)?%")
_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # what a `$name` in CSS can refer to


class ThemeError(Exception):
    """One line: which key is wrong and how."""


def load_themes(user_dir: Path | None) -> tuple[list[Theme], list[str]]:
    """The shipped themes, then those in `user_dir` (a user theme replaces a
    shipped one of the same name), and one line per file that was skipped."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    sources = _shipped_files()
    if user_dir is not None:
        sources += [(f"{user_dir.name}/{p.name}", p) for p in _user_files(user_dir)]
    for label, source in sources:
        try:
            theme = parse_theme(_read(source))
        except ThemeError as exc:
            problems.append(f"{label}: {exc}")
            continue
        themes[theme.name] = theme
    return list(themes.values()), problems


def _shipped_files() -> list[tuple[str, Any]]:
    folder = Path(shipped.__file__).parent
    entries: Iterable[Any]
    if folder.is_dir():  # installed or editable: a plain folder, read directly, since
        entries = folder.iterdir()  # importlib.resources would add ~3 ms to start-up
    else:  # zipped, or another loader
        from importlib.resources import files

        entries = files(SHIPPED_PACKAGE).iterdir()
    chosen = sorted((e for e in entries if e.name.endswith(".toml")), key=lambda e: e.name)
    return [(f"{SHIPPED_PACKAGE}/{e.name}", e) for e in chosen]


def _user_files(user_dir: Path) -> list[Path]:
    try:
        return sorted(p for p in user_dir.iterdir() if p.suffix == ".toml" and p.is_file())
    except OSError:  # no such folder (the usual case), or not readable
        return []


def _read(source: Any) -> str:
    """The text of a theme file: a `Path` (read with the size limit of every
    settings file) or an importlib.resources `Traversable` (shipped, trusted)."""
    try:
        if isinstance(source, Path):
            return read_toml_text(source)
        return source.read_text(encoding="utf-8")
    except TomlProblem as exc:
        raise ThemeError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"cannot read: {exc}") from None


def parse_theme(text: str) -> Theme:
    """A `Theme` from a theme file's text, or `ThemeError` naming the first problem."""
    try:
        data = parse_toml(text)
    except TomlProblem as exc:
        raise ThemeError(str(exc)) from None
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise ThemeError(f"{named(unknown[0])}: unknown key (known: {', '.join(KEYS)})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or not name.strip().isprintable():
        raise ThemeError(f"name: expected a non-empty string of printable characters, got {shown(name)}")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"dark: expected true or false, got {shown(dark)}")
    if "primary" not in data:
        raise ThemeError("primary: missing (a theme needs at least its primary colour)")
    colours = {key: _colour(key, data[key]) for key in COLOURS if key in data}
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"variables: expected a [variables] table, got {shown(variables)}")
    for key, value in variables.items():
        _check_variable(key, value)
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **colours)


def _colour(key: str, value: Any) -> str:
    """`value` as `#RRGGBB`: Textual accepts more spellings than the Rich
    styles that the transcript draws with, so every colour is stored in one."""
    if not isinstance(value, str):
        raise ThemeError(f"{key}: not a colour: {shown(value)}")
    try:
        colour = Color.parse(value)
    except (ColorParseError, ValueError):
        raise ThemeError(f"{key}: not a colour: {shown(value)}") from None
    if colour.a < 1:
        raise ThemeError(f"{key}: must be opaque, got {shown(value)}")
    return colour.hex


def _check_variable(key: str, value: Any) -> None:
    """A CSS variable: a text style for `*-style` names, else a colour that may
    carry an opacity (`"#4aa8e0 30%"`, `"auto 87%"`)."""
    where = f"variables.{named(key)}"
    if not _VARIABLE.fullmatch(key):
        raise ThemeError(f"{where}: not a CSS variable name")
    if not isinstance(value, str) or not value.strip():
        raise ThemeError(f"{where}: expected a string, got {shown(value)}")
    if key.endswith("style"):
        if not all(word.isalpha() for word in value.split()):
            raise ThemeError(f"{where}: not a text style: {shown(value)}")
        return
    colour, *rest = value.split()
    if len(rest) > 1 or (rest and not _PERCENT.fullmatch(rest[0])):
        raise ThemeError(f"{where}: not a colour: {shown(value)}")
    if colour == "auto":
        return
    try:
        Color.parse(colour)
    except (ColorParseError, ValueError):
        raise ThemeError(f"{where}: not a colour: {shown(value)}") from None

"""Typed options: one schema for the core's settings and for every plugin's.

A set of options is a frozen dataclass whose fields are `setting(...)`s: a
default, a help line (the docstring of the field, as Harlequin's adapter
options and simonw/llm's `class Options` carry one), and what it accepts (a
range, choices, a file that must exist). `check_options` builds one from a TOML
table, checking every value; anything wrong is one `ConfigError` line naming
where, the key and the problem. The core's sections (core/config.py) and each
backend's and router's `Options` (read under `[backends.NAME]` and
`[routers.NAME]`) are all declared and checked here, so a plugin's settings are
typed, documented and validated exactly as the core's are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from assistant.core.project import expand_home
from assistant.core.text import clean_text, named, shown

T = TypeVar("T")
StrList = tuple[str, ...]
# Upper bounds of numeric settings: far above any real use, low enough that a
# typo (`n_ctx = 1e23`) is caught when read rather than as a failed allocation.
TOKENS_MAX = 2**24
SECONDS_MAX = 86_400.0
DOLLARS_MAX = 1_000_000.0


class ConfigError(Exception):
    """One line: where, which key, what is wrong."""


def setting(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    path: bool = False,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    env: str = "",
    check: Callable[[str], str | None] | None = None,
) -> Any:
    """A setting: its default, help line and what it accepts. `path`: a file that
    must exist; `secret`: never shown, kept out of the log; `env`: the environment
    variable read before it (shown beside it, masked); `check`: each string's
    problem, or None."""
    meta = {"help": help, "min": minimum, "max": maximum, "path": path, "choices": choices, "secret": secret,
            "env": env, "check": check}  # fmt: skip
    return field(default=default, metadata=meta)


def is_options(obj: object) -> bool:
    """Whether `obj` is a class of options (a dataclass, each field a `setting`)."""
    return isinstance(obj, type) and is_dataclass(obj)


def check_options(cls: type[T], table: Mapping[str, Any], where: str, *, prefix: str = "", base: T | None = None) -> T:
    """`base` (else the defaults of `cls`) with `table`'s values, each checked.
    `prefix` is the table's dotted name (`backends.local`), `where` the file or
    "command line": a problem reads `where: prefix.key: what is wrong`."""
    hints = get_type_hints(cls)
    meta = {f.name: f.metadata for f in fields(cls)}  # type: ignore[arg-type]
    values = {}
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in meta:
            known = ", ".join(meta) or "none"
            raise ConfigError(f"{where}: {named(dotted)}: unknown key (known in [{prefix}]: {known})")
        values[key] = check_value(where, dotted, hints[key], meta[key], value)
    return replace(base if base is not None else cls(), **values)  # type: ignore[type-var]


@dataclass(frozen=True, slots=True)
class Given:
    """A plugin's `[backends.NAME]` or `[routers.NAME]` settings as given, checked
    only against that plugin's own options (which the core cannot know when it
    reads the file): each layer is (where, table), in the order given, the
    file's first, then the command line's."""

    layers: tuple[tuple[str, Mapping[str, Any]], ...] = ()

    def plus(self, where: str, table: Mapping[str, Any]) -> Given:
        """These settings with `table` (from `where`) over them."""
        if self.layers and self.layers[-1][0] == where:
            (_, last), rest = self.layers[-1], self.layers[:-1]
            return Given((*rest, (where, {**last, **table})))
        return Given((*self.layers, (where, dict(table))))

    @property
    def where(self) -> str:
        """Where these settings were first given (the file, or the command line)."""
        return self.layers[0][0] if self.layers else ""

    def build(self, cls: type[T], prefix: str) -> T:
        """The options `cls` with every layer applied in order, each value checked."""
        options = cls()
        for where, table in self.layers:
            options = check_options(cls, table, where, prefix=prefix, base=options)
        return options


# -- describing options ---------------------------------------------------------


def type_name(tp: Any) -> str:
    if tp == StrList:
        return "a list of strings"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[tp]


def toml_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def section_text(section: str, cls: type, *, commented: bool = False) -> list[str]:
    """`[section]` with every setting of `cls` at its default, each under its help line;
    `commented`: the table and its keys commented out, to be uncommented where changed."""
    mark = "# " if commented else ""
    lines = [f"{mark}[{section}]"]
    for f in fields(cls):
        lines.append(f"# {f.metadata['help']}")
        lines.append(f"{mark}{f.name} = {toml_value(f.default)}")
    return lines


class Masked(str):
    """A secret's masked form: shown as is, never as a TOML value."""


def mask_secret(secret: str | None) -> Masked:
    if not secret:
        return Masked("(not set)")
    if len(secret) <= 12:
        return Masked("set (****)")
    return Masked(f"set ({secret[:7]}…{secret[-4:]})")


def option_rows(prefix: str, options: object, environ: Mapping[str, str]) -> list[tuple[str, Any]]:
    """`(dotted key, value)` for every setting of `options`, secrets masked, and an
    `env.NAME` row for each environment variable a setting is read from."""
    rows: list[tuple[str, Any]] = []
    for f in fields(options):  # type: ignore[arg-type]
        value = getattr(options, f.name)
        rows.append((f"{prefix}.{f.name}", mask_secret(value) if f.metadata.get("secret") else value))
        if env := f.metadata.get("env"):
            rows.append((f"env.{env}", mask_secret(environ.get(env))))
    return rows


def secret_values(options: object, environ: Mapping[str, str]) -> Iterable[str]:
    """The secrets `options` hold or name (its secret settings, their environment
    variables' values), which the log must never show."""
    for f in fields(options):  # type: ignore[arg-type]
        if f.metadata.get("secret"):
            yield getattr(options, f.name)
            if (env := f.metadata.get("env")) and environ.get(env):
                yield environ[env]


# -- checking one value -----------------------------------------------------------


def _range(meta: Mapping[str, Any]) -> str:
    """The allowed range of a numeric setting, as a person reads it."""
    low, high = (_bound(meta.get(end)) for end in ("min", "max"))
    if low is not None and high is not None:
        return f"from {low} to {high}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}" if high is not None else "finite"


def _bound(value: float | None) -> str | None:
    """16777216, not 1.67772e+07; 0.1 stays 0.1."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check_number(where: str, key: str, meta: Mapping[str, Any], value: float, given: Any) -> None:
    """Finite (no nan, no inf) and within the field's range; `given` is said as written."""
    low, high = meta.get("min"), meta.get("max")
    if (isinstance(value, float) and not math.isfinite(value)) or (low is not None and value < low) or (
        high is not None and value > high
    ):
        raise ConfigError(f"{where}: {key}: must be {_range(meta)}, got {shown(given)}")


def check_value(where: str, key: str, tp: Any, meta: Mapping[str, Any], value: Any) -> Any:
    """`value` as the setting `key` (of type `tp`, described by `meta`) takes it, or
    `ConfigError`: ints widen to floats, strings are cleaned, paths made absolute."""
    if tp == StrList:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key}: expected {type_name(tp)}, got {shown(value)}")
        bad = [v for v in value if meta.get("choices") and v not in meta["choices"]]
        if bad:
            raise ConfigError(f"{where}: {key}: expected items among {', '.join(meta['choices'])}, got {shown(bad[0])}")
        problems = [p for v in value if meta.get("check") and (p := meta["check"](v))]
        if problems:
            raise ConfigError(f"{where}: {key}: {problems[0]}")
        return tuple(clean_text(v) for v in value)
    given = value
    ok = isinstance(value, tp) and not (tp is not bool and isinstance(value, bool))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value, ok = float(value), True
        except OverflowError:  # an integer beyond any float: out of every range
            raise ConfigError(f"{where}: {key}: must be {_range(meta)}, got {shown(value)}") from None
    if not ok:
        expected = type_name(tp) + (f" {_range(meta)}" if tp in (int, float) else "")
        raise ConfigError(f"{where}: {key}: expected {expected}, got {shown(value)}")
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{where}: {key}: expected one of {', '.join(meta['choices'])}, got {shown(value)}")
    if tp in (int, float):
        _check_number(where, key, meta, value, given)
    if tp is str:
        value = clean_text(value)
    if meta.get("path") and value:
        value = _existing_file(where, key, value)
    return value


def _existing_file(where: str, key: str, value: str) -> str:
    try:
        p = Path(expand_home(value))
        exists, is_file = p.exists(), p.is_file()
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a path"
        raise ConfigError(f"{where}: {key}: not a usable path: {shown(value)} ({reason})") from None
    if not exists:
        raise ConfigError(f"{where}: {key}: file does not exist: {named(str(p))}")
    if not is_file:
        raise ConfigError(f"{where}: {key}: not a file: {named(str(p))}")
    return str(p)

"""Typed configuration: a TOML file, overridden by command-line settings.

Every field has a type, a default and a one-line help text; the default file
that `assistant config --init` writes is generated from the same schema, so the
two cannot drift apart. Anything wrong is one `ConfigError` line naming the
file, the key and the problem.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

SECRET_ENV = "ANTHROPIC_API_KEY"


class ConfigError(Exception):
    """One line: where, which key, what is wrong."""


def _f(default: Any, help: str, *, minimum: float | None = None, path: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "min": minimum, "path": path})


@dataclass(frozen=True, slots=True)
class GeneralConfig:
    backend: str = _f("local", "Backend that answers: a name registered under `assistant.backends`.")
    system_prompt: str = _f(
        "You are a concise, expert coding assistant. Answer in Markdown.",
        "System prompt sent first in every conversation.",
    )


@dataclass(frozen=True, slots=True)
class LocalConfig:
    model_path: str = _f(
        "",
        "GGUF model file (any llama.cpp model; a Llama 3.x 70B Instruct on a GPU box). "
        "Empty: the embedded SmolLM2-135M-Instruct.",
        path=True,
    )
    n_ctx: int = _f(4096, "Context size in tokens.", minimum=64)
    n_gpu_layers: int = _f(0, "Layers offloaded to the GPU: 0 = CPU only, -1 = all.", minimum=-1)
    n_threads: int = _f(0, "CPU threads for generation; 0 = the number of physical cores.", minimum=0)
    n_batch: int = _f(512, "Prompt tokens evaluated per batch.", minimum=1)
    flash_attn: bool = _f(False, "Use flash attention (faster on GPUs that support it).")
    max_tokens: int = _f(1024, "Most tokens generated per answer.", minimum=1)
    temperature: float = _f(0.2, "Sampling temperature; 0 = greedy.", minimum=0)
    top_p: float = _f(0.95, "Nucleus sampling threshold.", minimum=0)
    top_k: int = _f(40, "Sample from the k most likely tokens; 0 = all.", minimum=0)
    min_p: float = _f(0.05, "Drop tokens below this share of the top token's probability.", minimum=0)
    repeat_penalty: float = _f(1.1, "Penalty for repeating recent tokens; 1.0 = none.", minimum=0)
    seed: int = _f(-1, "Sampling seed; -1 = random.", minimum=-1)


@dataclass(frozen=True, slots=True)
class CostConfig:
    local_machine_per_hour: float = _f(
        0.0,
        "What the machine running the local model costs, in $/hour; "
        "a local turn costs this spread over its measured time.",
        minimum=0,
    )


@dataclass(frozen=True, slots=True)
class UiConfig:
    theme: str = _f("textual-dark", "Textual theme name.")
    status_refresh_hz: float = _f(8.0, "How often the status bar refreshes while streaming.", minimum=1)


@dataclass(frozen=True, slots=True)
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    ui: UiConfig = field(default_factory=UiConfig)

    @property
    def anthropic_api_key(self) -> str | None:
        """Read from the environment only; never stored in the file."""
        return os.environ.get(SECRET_ENV) or None

    def with_overrides(self, overrides: dict[str, Any], source: str = "command line") -> Config:
        return _merge(self, {k: v for k, v in overrides.items() if v is not None}, source)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(Config)}  # type: ignore[misc]


def _type_name(tp: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[tp]


def _check_value(where: str, key: str, tp: type, meta: dict[str, Any], value: Any) -> Any:
    ok = isinstance(value, tp) and not (tp is not bool and isinstance(value, bool))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"{where}: {key}: expected {_type_name(tp)}, got {value!r}")
    if meta.get("min") is not None and value < meta["min"]:
        raise ConfigError(f"{where}: {key}: must be at least {meta['min']}, got {value!r}")
    if meta.get("path") and value:
        p = Path(value).expanduser()
        if not p.exists():
            raise ConfigError(f"{where}: {key}: file does not exist: {p}")
        if not p.is_file():
            raise ConfigError(f"{where}: {key}: not a file: {p}")
        value = str(p)
    return value


def _merge(config: Config, flat: dict[str, Any], where: str) -> Config:
    """Apply `{"section.key": value}` to `config`, validating each one."""
    by_section: dict[str, dict[str, Any]] = {}
    for dotted, value in flat.items():
        section, _, key = dotted.partition(".")
        if section not in SECTIONS or not key:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(f"{where}: {dotted}: unknown setting (sections: {known})")
        cls = SECTIONS[section]
        hints = get_type_hints(cls)
        meta = {f.name: f.metadata for f in fields(cls)}
        if key not in meta:
            raise ConfigError(
                f"{where}: {dotted}: unknown key (known in [{section}]: {', '.join(meta)})"
            )
        by_section.setdefault(section, {})[key] = _check_value(
            where, dotted, hints[key], meta[key], value
        )
    changes = {s: replace(getattr(config, s), **kv) for s, kv in by_section.items()}
    return replace(config, **changes)


def parse(text: str, where: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: TOML syntax error: {exc}") from None
    flat: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: {section}: expected a [{section}] table, got {table!r}")
        for key, value in table.items():
            flat[f"{section}.{key}"] = value
    return _merge(Config(), flat, where)


def load(path: Path) -> Config:
    """The config in `path`, or the defaults when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse(text, str(path))


def parse_assignment(text: str) -> tuple[str, Any]:
    """`section.key=value` from the command line; the value is read as TOML, else as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text}: expected SECTION.KEY=VALUE")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def default_file_text() -> str:
    """A commented config file with every setting at its default."""
    lines = [
        "# assistant configuration. Every setting is shown at its default.",
        f"# The Claude API key is read from the {SECRET_ENV} environment variable, never from here.",
        "",
    ]
    for section, cls in SECTIONS.items():
        lines.append(f"[{section}]")
        for f in fields(cls):
            lines.append(f"# {f.metadata['help']}")
            lines.append(f"{f.name} = {toml_value(f.default)}")
        lines.append("")
    return "\n".join(lines)


def effective_settings(config: Config) -> list[tuple[str, Any]]:
    """`(dotted key, value)` for every setting, secrets masked."""
    rows = [
        (f"{section}.{f.name}", getattr(getattr(config, section), f.name))
        for section, cls in SECTIONS.items()
        for f in fields(cls)
    ]
    rows.append((f"env.{SECRET_ENV}", mask_secret(config.anthropic_api_key)))
    return rows


def mask_secret(secret: str | None) -> str:
    if not secret:
        return "(not set)"
    if len(secret) <= 12:
        return "set (****)"
    return f"set ({secret[:7]}…{secret[-4:]})"


__all__ = [
    "Config",
    "ConfigError",
    "CostConfig",
    "GeneralConfig",
    "LocalConfig",
    "UiConfig",
    "default_file_text",
    "effective_settings",
    "load",
    "parse",
    "parse_assignment",
]

"""Typed configuration: a TOML file, overridden by command-line settings.

Every field has a type, a default and a one-line help text; the default file
that `assistant config --init` writes is generated from the same schema, so the
two cannot drift apart. Anything wrong is one `ConfigError` line naming the
file, the key and the problem.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from assistant.core import accounting, sandbox
from assistant.core.atomic import write_atomic
from assistant.core.project import expand_home
from assistant.core.secrets import redact_url
from assistant.core.text import clean_text, named, shown
from assistant.core.tomlfile import TomlProblem, parse_toml, read_toml_text
from assistant.core.words import PREFIX_WORDS

SECRET_ENV = "ANTHROPIC_API_KEY"
# Upper bounds of the numeric settings: far above any real use, low enough that
# a typo (`n_ctx = 1e23`) is caught here rather than as a failed allocation.
TOKENS_MAX = 2**24
SECONDS_MAX = 86_400.0
DOLLARS_MAX = 1_000_000.0


class ConfigError(Exception):
    """One line: where, which key, what is wrong."""


def _f(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    path: bool = False,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    check: Callable[[str], str | None] | None = None,
) -> Any:
    """A setting: its default, help line and what it accepts (`check`: each string's
    problem, or None)."""
    meta = {"help": help, "min": minimum, "max": maximum, "path": path, "choices": choices, "secret": secret,
            "check": check}
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class GeneralConfig:
    backend: str = _f(
        "auto",
        "Who answers: auto (the router chooses each turn, see [router]) or a backend's name "
        "(registered under `assistant.backends`: local, claude, …).",
    )
    system_prompt: str = _f(
        "You are a concise, expert coding assistant. Answer in Markdown.",
        "System prompt sent first in every conversation.",
    )
    debug_log: bool = _f(
        False,
        "Log at debug level, the Anthropic SDK's and httpx's records included "
        "(API keys are redacted from everything logged).",
    )


@dataclass(frozen=True, slots=True)
class LocalConfig:
    model_path: str = _f(
        "",
        "GGUF model file (any llama.cpp model; a Llama 3.x 70B Instruct on a GPU box). "
        "Empty: the embedded SmolLM2-135M-Instruct.",
        path=True,
    )
    n_ctx: int = _f(4096, "Context size in tokens.", minimum=64, maximum=TOKENS_MAX)
    n_gpu_layers: int = _f(0, "Layers offloaded to the GPU: 0 = CPU only, -1 = all.", minimum=-1, maximum=100_000)
    n_threads: int = _f(0, "CPU threads for generation; 0 = the number of physical cores.", minimum=0, maximum=4096)
    n_batch: int = _f(512, "Prompt tokens evaluated per batch.", minimum=1, maximum=TOKENS_MAX)
    flash_attn: bool = _f(False, "Use flash attention (faster on GPUs that support it).")
    max_tokens: int = _f(1024, "Most tokens generated per answer.", minimum=1, maximum=TOKENS_MAX)
    temperature: float = _f(0.2, "Sampling temperature; 0 = greedy.", minimum=0, maximum=2)
    top_p: float = _f(0.95, "Nucleus sampling threshold.", minimum=0, maximum=1)
    top_k: int = _f(40, "Sample from the k most likely tokens; 0 = all.", minimum=0, maximum=TOKENS_MAX)
    min_p: float = _f(0.05, "Drop tokens below this share of the top token's probability.", minimum=0, maximum=1)
    repeat_penalty: float = _f(1.1, "Penalty for repeating recent tokens; 1.0 = none.", minimum=0, maximum=10)
    seed: int = _f(-1, "Sampling seed; -1 = random.", minimum=-1, maximum=2**32 - 1)


@dataclass(frozen=True, slots=True)
class ClaudeConfig:
    model: str = _f("claude-sonnet-5-5", "Claude model id (the current Sonnet by default).")
    max_tokens: int = _f(4096, "Most tokens generated per answer.", minimum=1, maximum=TOKENS_MAX)
    temperature: float = _f(
        -1.0,
        "Sampling temperature; negative = not sent (the API's default). "
        "Sonnet 5 and later reject non-default sampling settings.",
        minimum=-1,
        maximum=1,
    )
    system_prompt: str = _f("", "System prompt for Claude; empty = general.system_prompt.")
    base_url: str = _f("", "API base URL; empty = ANTHROPIC_BASE_URL, else Anthropic's.")
    api_key: str = _f(
        "",
        "API key; prefer the ANTHROPIC_API_KEY environment variable. "
        "`assistant config --set-key` stores it here in a file only you can read.",
        secret=True,
    )
    connect_timeout: float = _f(10.0, "Seconds to connect to the API.", minimum=0.1, maximum=SECONDS_MAX)
    read_timeout: float = _f(
        60.0, "Seconds without a byte from the API before the stream counts as stalled.",
        minimum=0.1,
        maximum=SECONDS_MAX,
    )
    max_retries: int = _f(
        4, "Retries of a request that failed before any text arrived (429, 529, 5xx, network).", minimum=0, maximum=100
    )
    retry_max_seconds: float = _f(
        60.0, "Most seconds spent waiting between retries of one turn.", minimum=0, maximum=SECONDS_MAX
    )
    prompt_caching: bool = _f(True, "Mark the stable prefix (system prompt, older history) for caching.")
    cache_ttl: str = _f("5m", "Prompt-cache lifetime: 5m or 1h (1h writes cost more).", choices=("5m", "1h"))
    fallback_to_local: bool = _f(
        True, "When Claude cannot answer before any text arrived, answer with the local model."
    )
    count_tokens_timeout: float = _f(
        5.0, "Seconds to wait for the API's token count before estimating offline.", minimum=0.1, maximum=SECONDS_MAX
    )


@dataclass(frozen=True, slots=True)
class RouterConfig:
    chain: StrList = _f(
        ("privacy", "budget", "quality", "rules"),
        "Routers asked in order (names under `assistant.routers` or plugin files); the first that decides wins.",
    )
    quality_max_context: int = _f(
        8000, "rules: a highest-quality turn whose context is under this many tokens goes to Claude.",
        minimum=0,
        maximum=TOKENS_MAX,
    )
    local_min_context: int = _f(
        10000, "rules: a context over this many tokens (or batch work) goes to the local model.",
        minimum=0,
        maximum=TOKENS_MAX,
    )
    fixed_backend: str = _f("local", "fixed: the backend that takes every turn.")
    plugins_dir: str = _f("", "Folder of router plugin .py files; empty = plugins/ in the config directory.")
    measured_turns: int = _f(50, "How many recent turns per backend the measured speed is taken over.", minimum=1, maximum=100_000)
    quality_floor: float = _f(
        0.8, "quality: the share of good answers a backend must surely reach on a kind of turn to take it.",
        minimum=0, maximum=1,
    )
    floor_chat: float = _f(-1.0, "quality: the floor for chat turns; negative = quality_floor.", minimum=-1, maximum=1)
    floor_explain: float = _f(-1.0, "quality: the floor for questions (explain); negative = quality_floor.", minimum=-1, maximum=1)
    floor_code: float = _f(-1.0, "quality: the floor for new code (code); negative = quality_floor.", minimum=-1, maximum=1)
    floor_edit: float = _f(-1.0, "quality: the floor for edits of existing code; negative = quality_floor.", minimum=-1, maximum=1)
    floor_batch: float = _f(-1.0, "quality: the floor for batch work; negative = quality_floor.", minimum=-1, maximum=1)
    explore_share: float = _f(
        0.1, "quality: at most this share of a kind's turns goes to a backend to measure it.", minimum=0, maximum=1
    )


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    session_dollars: float = _f(0.0, "budget: spending cap per session in $; 0 = none.", minimum=0, maximum=DOLLARS_MAX)
    daily_dollars: float = _f(0.0, "budget: spending cap per day (local time) in $; 0 = none.", minimum=0, maximum=DOLLARS_MAX)
    near: float = _f(0.9, "budget: share of a cap from which turns go local.", minimum=0, maximum=1)


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    patterns: StrList = _f(
        (".env*", "*.pem", "*.key", "id_*", "secrets/**"),
        "privacy: files matching these never go to the cloud (gitignore-style globs).",
    )
    git_ignored: bool = _f(True, "privacy: files git ignores never go to the cloud either.")


@dataclass(frozen=True, slots=True)
class WindowConfig:
    claude_tokens: int = _f(8000, "Context budget for Claude, in its tokens.", minimum=256, maximum=TOKENS_MAX)
    local_tokens: int = _f(4000, "Context budget for the local model, in its tokens.", minimum=64, maximum=TOKENS_MAX)
    slide_fraction: float = _f(
        0.25,
        "When the window is full, drop this share of the budget at once (whole oldest turns), "
        "so the prompt's prefix, and with it the KV and prompt caches, changes rarely.",
        minimum=0.01,
        maximum=1,
    )


@dataclass(frozen=True, slots=True)
class EditsConfig:
    whole_file_backends: StrList = _f(
        ("local",),
        "Backends asked for whole new files instead of SEARCH/REPLACE blocks (small models handle blocks badly).",
    )
    dirty: str = _f(
        "snapshot",
        "Uncommitted changes in a file about to be edited: snapshot (commit them first, separately) or refuse.",
        choices=("snapshot", "refuse"),
    )
    max_file_bytes: int = _f(200_000, "Largest file that may be pinned (/add) or edited.", minimum=1, maximum=2**31)
    claude_concurrency: int = _f(4, "Batch refactors: Claude requests at once.", minimum=1, maximum=1000)
    claude_requests_per_second: float = _f(2.0, "Batch refactors: most Claude requests started per second.", minimum=0.01, maximum=1000)
    lint_cmd: str = _f(
        "",
        "A lint command run on a scratch copy with the edit applied (when: see checks) "
        "({files}: the changed files), e.g. \"ruff check {files}\". Empty: none.",
    )
    test_cmd: str = _f(
        "",
        "The project's tests, run the same way, e.g. \"python -m pytest -x -q\". Empty: none.",
    )
    check_timeout: float = _f(300.0, "Seconds a lint or test run may take before it is stopped.", minimum=1, maximum=86_400)
    check_env: StrList = _f(
        (),
        "Environment variables the checks get besides PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, LC_*, "
        "TERM, TZ, VIRTUAL_ENV, CI and NO_COLOR (nothing else reaches them); a name holding KEY, TOKEN, SECRET, "
        "PASS, PWD, AUTH, SIG, CREDENTIAL, SESSION or COOKIE is refused.",
        check=sandbox.env_name_problem,
    )
    check_memory_mib: int = _f(
        4096, "Writable memory each process of a check may use, in MiB; 0 = no limit.", minimum=0, maximum=2**30
    )
    check_file_mib: int = _f(1024, "Largest file a check may write, in MiB; 0 = no limit.", minimum=0, maximum=2**30)
    check_processes: int = _f(
        1024, "Processes and threads a check may start beyond those you already run; 0 = no limit.",
        minimum=0, maximum=2**22,
    )
    checks: str = _f(
        "after_review",
        "When lint_cmd and test_cmd run: they execute the proposed code. after_review: only once you have "
        "accepted the diff; an edit they fail is written only if you say yes again (never with --yes). "
        "before_review: before the diff is shown, with one repair round by the model, so code you have not "
        "read runs.",
        choices=("after_review", "before_review"),
    )


@dataclass(frozen=True, slots=True)
class CostConfig:
    local_machine_per_hour: float = _f(
        0.0,
        "What the machine running the local model costs, in $/hour; "
        "a local turn costs this spread over its measured time.",
        minimum=0,
        maximum=DOLLARS_MAX,
    )
    reference_model: str = _f(
        "claude-sonnet-5-5",
        "Claude model every turn is also priced on, for the saved-vs-all-Claude figures.",
    )


@dataclass(frozen=True, slots=True)
class UiConfig:
    theme: str = _f("textual-dark", "Textual theme name.")
    status_refresh_hz: float = _f(
        2.0, "How often the status bar refreshes while streaming, at most (on the answer's frames).",
        minimum=0.5, maximum=120,
    )
    answer_refresh_hz: float = _f(
        10.0, "How often a streaming answer is painted, at most (the first text at once).", minimum=1, maximum=120,
    )
    frame_cpu_share: float = _f(
        0.03, "While a model on this machine answers, the share of one CPU core the screen may take: each "
        "frame is CPU the model would use, so frames slow down (to no fewer than 2 a second) when they cost "
        "more. 0 paints at answer_refresh_hz whatever it costs.", minimum=0, maximum=1,
    )


MAX_SERVER_SLOTS = 4096  # more sequences at once than any server runs


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """One `[servers.NAME]` table: an OpenAI-compatible inference server (llama-server,
    vLLM, Ollama, …), a backend named NAME."""

    base_url: str = _f("", "The server's OpenAI-compatible API, e.g. http://gpu-box:8080/v1 (required).")
    api_key_env: str = _f("", "Environment variable that holds the server's API key (never stored); empty = none.")
    model: str = _f("", "Model id to ask for; empty = the first one the server lists (/v1/models).")
    private: bool = _f(False, "Self-hosted: the privacy router may send turns with secret files to it.")
    cost_per_hour: float = _f(
        0.0, "What the server costs in $/hour, spread over its measured time (a hosted API's per-token "
        "prices go in [prices.\"MODEL\"] instead).", minimum=0, maximum=DOLLARS_MAX,
    )
    max_concurrency: int = _f(
        0, "Sequences generated at once; 0 = what the server reports (llama-server's slots), else 1.",
        minimum=0, maximum=MAX_SERVER_SLOTS,
    )
    window_tokens: int = _f(
        0, "Context budget in the server's tokens; 0 = its context (n_ctx) less max_tokens.", minimum=0, maximum=TOKENS_MAX
    )
    context_tokens: int = _f(0, "The model's context size when the server does not report it; 0 = ask it.",
                             minimum=0, maximum=TOKENS_MAX)  # fmt: skip
    max_tokens: int = _f(1024, "Most tokens generated per answer.", minimum=1, maximum=TOKENS_MAX)
    temperature: float = _f(0.2, "Sampling temperature; negative = not sent (the server's default).", minimum=-1, maximum=2)
    prompt_caching: bool = _f(True, "Ask the server to keep each prompt in its cache (llama-server's cache_prompt).")
    connect_timeout: float = _f(5.0, "Seconds to connect to the server.", minimum=0.1, maximum=SECONDS_MAX)
    read_timeout: float = _f(
        60.0, "Seconds without a byte from the server before the stream counts as stalled.", minimum=0.1, maximum=SECONDS_MAX
    )
    max_retries: int = _f(2, "Retries of a request that failed before any text arrived (503, 429, 5xx, network).",
                          minimum=0, maximum=100)  # fmt: skip
    retry_max_seconds: float = _f(30.0, "Most seconds spent waiting between retries of one turn.",
                                  minimum=0, maximum=SECONDS_MAX)  # fmt: skip
    # read_timeout bounds each silence, not the whole: a token every 59 s would go on for hours.
    max_answer_seconds: float = _f(
        1800.0, "Most seconds one answer may stream, however steadily; a longer one is cut off, marked interrupted.",
        minimum=0.1, maximum=SECONDS_MAX,
    )


# Names a server cannot take: the built-in backends', the plugin's, and every `@`
# prefix the app gives a meaning to (a server named `quality` would take `@quality`).
RESERVED_SERVER_NAMES = frozenset({"local", "claude", "server", *PREFIX_WORDS})
_SERVER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


@dataclass(frozen=True, slots=True)
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    claude: ClaudeConfig = field(default_factory=ClaudeConfig)
    router: RouterConfig = field(default_factory=RouterConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    edits: EditsConfig = field(default_factory=EditsConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    # `[prices."MODEL"]` tables from the file: overrides of the shipped prices.
    prices: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    # `[servers.NAME]` tables: inference servers, each a backend under its name.
    servers: dict[str, ServerConfig] = field(default_factory=dict)

    @property
    def anthropic_api_key(self) -> str | None:
        """The environment's key, else the config file's."""
        return os.environ.get(SECRET_ENV) or self.claude.api_key or None

    def with_overrides(self, overrides: dict[str, Any], source: str = "command line") -> Config:
        return _merge(self, {k: v for k, v in overrides.items() if v is not None}, source)


SECTIONS: dict[str, type] = {
    f.name: f.default_factory for f in fields(Config) if f.name not in ("prices", "servers")  # type: ignore[misc]
}


StrList = tuple[str, ...]


def _type_name(tp: Any) -> str:
    if tp == StrList:
        return "a list of strings"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[tp]


def _range(meta: dict[str, Any]) -> str:
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


def _check_number(where: str, key: str, meta: dict[str, Any], value: float) -> None:
    """Finite (no nan, no inf) and within the field's range."""
    low, high = meta.get("min"), meta.get("max")
    if (isinstance(value, float) and not math.isfinite(value)) or (low is not None and value < low) or (
        high is not None and value > high
    ):
        raise ConfigError(f"{where}: {key}: must be {_range(meta)}, got {shown(value)}")


def _check_value(where: str, key: str, tp: Any, meta: dict[str, Any], value: Any) -> Any:
    if tp == StrList:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key}: expected {_type_name(tp)}, got {shown(value)}")
        bad = [v for v in value if meta.get("choices") and v not in meta["choices"]]
        if bad:
            raise ConfigError(f"{where}: {key}: expected items among {', '.join(meta['choices'])}, got {shown(bad[0])}")
        problems = [p for v in value if meta.get("check") and (p := meta["check"](v))]
        if problems:
            raise ConfigError(f"{where}: {key}: {problems[0]}")
        return tuple(clean_text(v) for v in value)
    ok = isinstance(value, tp) and not (tp is not bool and isinstance(value, bool))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value, ok = float(value), True
        except OverflowError:  # an integer beyond any float: out of every range
            raise ConfigError(f"{where}: {key}: must be {_range(meta)}, got {shown(value)}") from None
    if not ok:
        expected = _type_name(tp) + (f" {_range(meta)}" if tp in (int, float) else "")
        raise ConfigError(f"{where}: {key}: expected {expected}, got {shown(value)}")
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{where}: {key}: expected one of {', '.join(meta['choices'])}, got {shown(value)}")
    if tp in (int, float):
        _check_number(where, key, meta, value)
    if tp is str:
        value = clean_text(value)
    if meta.get("path") and value:
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
        value = str(p)
    return value


def _merge(config: Config, flat: dict[str, Any], where: str) -> Config:
    """Apply `{"section.key": value}` (and `{"servers.NAME.key": value}`) to `config`,
    validating each one."""
    by_section: dict[str, dict[str, Any]] = {}
    servers: dict[str, dict[str, Any]] = {}
    for dotted, value in flat.items():
        section, _, key = dotted.partition(".")
        if section == "servers":
            name, _, key = key.partition(".")
            servers.setdefault(_server_name(name, where), {})[key] = value
            continue
        if section not in SECTIONS or not key:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(f"{where}: {named(dotted)}: unknown setting (sections: {known})")
        cls = SECTIONS[section]
        hints = get_type_hints(cls)
        meta = {f.name: f.metadata for f in fields(cls)}
        if key not in meta:
            raise ConfigError(
                f"{where}: {named(dotted)}: unknown key (known in [{section}]: {', '.join(meta)})"
            )
        by_section.setdefault(section, {})[key] = _check_value(
            where, dotted, hints[key], meta[key], value
        )
    changes = {s: replace(getattr(config, s), **kv) for s, kv in by_section.items()}
    config = replace(config, **changes)
    if servers:
        merged = dict(config.servers)
        for name, table in servers.items():
            merged[name] = _server(merged.get(name, ServerConfig()), table, f"{where}: servers.{name}")
        config = replace(config, servers=merged)
    return config


def _server_name(name: str, where: str) -> str:
    if not _SERVER_NAME.fullmatch(name):
        raise ConfigError(f"{where}: servers.{named(name)}: a server's name is lowercase letters, digits, - and _ "
                          "(starting with a letter, at most 40)")  # fmt: skip
    if name in RESERVED_SERVER_NAMES:
        raise ConfigError(f"{where}: servers.{name}: the name is taken (not {', '.join(sorted(RESERVED_SERVER_NAMES))})")
    return name


def _server(base: ServerConfig, table: dict[str, Any], where: str) -> ServerConfig:
    """`base` with `table`'s settings, each checked; the result must name its URL."""
    hints = get_type_hints(ServerConfig)
    meta = {f.name: f.metadata for f in fields(ServerConfig)}
    values = {}
    for key, value in table.items():
        if key not in meta:
            raise ConfigError(f"{where}: {named(key)}: unknown key (known: {', '.join(meta)})")
        values[key] = _check_value(where, key, hints[key], meta[key], value)
    server = replace(base, **values)
    if not re.match(r"https?://[^\s/]+", server.base_url):
        raise ConfigError(f"{where}: base_url: expected the server's http:// or https:// URL, "
                          f"got {shown(redact_url(server.base_url))}")  # fmt: skip
    if server.api_key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", server.api_key_env):
        raise ConfigError(f"{where}: api_key_env: expected an environment variable's name, got {shown(server.api_key_env)}")
    return server


def parse(text: str, where: str) -> Config:
    try:
        data = parse_toml(text)
    except TomlProblem as exc:
        raise ConfigError(f"{where}: {exc}") from None
    flat: dict[str, Any] = {}
    prices = data.pop("prices", {})
    _check_prices(prices, where)
    servers = data.pop("servers", {})
    if not isinstance(servers, dict) or not all(isinstance(t, dict) for t in servers.values()):
        raise ConfigError(f"{where}: servers: expected [servers.NAME] tables")
    for name, table in servers.items():
        for key, value in (table or {"base_url": ""}).items():  # an empty table still names its server
            flat[f"servers.{name}.{key}"] = value
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: {named(section)}: expected a [{named(section)}] table, got {shown(table)}")
        for key, value in table.items():
            flat[f"{section}.{key}"] = value
    return replace(_merge(Config(), flat, where), prices=prices)


def _check_prices(prices: Any, where: str) -> None:
    """Price overrides are checked when read, so a typo is reported at start-up."""
    if not isinstance(prices, dict):
        raise ConfigError(f"{where}: prices: expected [prices.\"MODEL\"] tables")
    try:
        accounting.price_table(prices, where)
    except accounting.PriceError as exc:
        raise ConfigError(str(exc)) from None


def load(path: Path) -> Config:
    """The config in `path`, or the defaults when there is no such file."""
    try:
        text = read_toml_text(path)
    except FileNotFoundError:
        return Config()
    except TomlProblem as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse(text, str(path))


def parse_assignment(text: str) -> tuple[str, Any]:
    """`section.key=value` from the command line; the value is read as TOML, else as a
    string (argv may carry bytes that are not UTF-8: they become U+FFFD)."""
    key, sep, raw = clean_text(text).partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {shown(text)}: expected SECTION.KEY=VALUE")
    try:
        value = parse_toml(f"v = {raw.strip()}")["v"]
    except TomlProblem:
        value = raw.strip()
    return key.strip(), value


def toml_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def default_file_text() -> str:
    """A commented config file with every setting at its default."""
    lines = [
        "# assistant configuration. Every setting is shown at its default.",
        f"# The Claude API key is read from the {SECRET_ENV} environment variable first.",
        "# Claude prices can be overridden per model, e.g.",
        '#   [prices."claude-sonnet-5-5"]',
        "#   cache_read = 0.2",
        "",
    ]
    for section, cls in SECTIONS.items():
        lines.append(f"[{section}]")
        for f in fields(cls):
            lines.append(f"# {f.metadata['help']}")
            lines.append(f"{f.name} = {toml_value(f.default)}")
        lines.append("")
    lines += [
        "# Inference servers (llama-server, vLLM, Ollama, any OpenAI-compatible API), each a",
        "# backend under its name (`/model gpu`, `@gpu`, `--backend gpu`). Every key but",
        "# base_url may be left out:",
        "#   [servers.gpu]",
        *(f"#   {f.name} = {toml_value(f.default if f.name != 'base_url' else 'http://gpu-box:8080/v1')}"
          for f in fields(ServerConfig)),
        "",
    ]
    return "\n".join(lines)


def effective_settings(config: Config) -> list[tuple[str, Any]]:
    """`(dotted key, value)` for every setting, secrets masked."""
    rows = [
        (
            f"{section}.{f.name}",
            mask_secret(value) if f.metadata.get("secret") else value,
        )
        for section, cls in SECTIONS.items()
        for f in fields(cls)
        for value in [getattr(getattr(config, section), f.name)]
    ]
    rows.append((f"env.{SECRET_ENV}", mask_secret(os.environ.get(SECRET_ENV))))
    for name, server in sorted(config.servers.items()):
        rows += [(f"servers.{name}.{f.name}", getattr(server, f.name)) for f in fields(ServerConfig)]
        if server.api_key_env:
            rows.append((f"env.{server.api_key_env}", mask_secret(os.environ.get(server.api_key_env))))
    return rows


class Masked(str):
    """A secret's masked form: shown as is, never as a TOML value."""


def mask_secret(secret: str | None) -> Masked:
    if not secret:
        return Masked("(not set)")
    if len(secret) <= 12:
        return Masked("set (****)")
    return Masked(f"set ({secret[:7]}…{secret[-4:]})")


__all__ = [
    "Config",
    "ConfigError",
    "BudgetConfig",
    "ClaudeConfig",
    "CostConfig",
    "EditsConfig",
    "PrivacyConfig",
    "RouterConfig",
    "WindowConfig",
    "GeneralConfig",
    "LocalConfig",
    "UiConfig",
    "default_file_text",
    "effective_settings",
    "load",
    "parse",
    "parse_assignment",
]


# -- writing the file ------------------------------------------------------------

_ANY_HEADER = re.compile(r"^\s*\[")


def write_private(path: Path, text: str) -> None:
    """Write `text` atomically to a file only its owner can read (mode 0600):
    the config file may hold an API key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"), mode=0o600)


def with_setting(text: str, section: str, key: str, value: Any) -> str:
    """`text` (a config file) with `[section] key` set to `value`, comments and
    every other line kept: the key's line is replaced, else added under the
    section's header, else the section is appended."""
    lines = text.splitlines()
    line = f"{key} = {toml_value(value)}"
    header = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*\]\s*(#.*)?$")
    key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
    start = next((i for i, row in enumerate(lines) if header.match(row)), None)
    if start is None:
        lines += ["", f"[{section}]", line]
    else:
        end = next((i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
        existing = next((i for i in range(start + 1, end) if key_line.match(lines[i])), None)
        if existing is None:
            lines.insert(start + 1, line)
        else:
            lines[existing] = line
    return "\n".join(lines) + "\n"


def with_api_key(text: str, key: str) -> str:
    """`text` (a config file) with `[claude] api_key` set to `key`, comments kept."""
    return with_setting(text, "claude", "api_key", key)


def store_setting(path: Path, section: str, key: str, value: Any) -> None:
    """Set `[section] key = value` in the config file, keeping its other lines and
    comments; the file is created from the defaults when missing, and written
    with mode 0600. A result that would not load is not written (`ConfigError`)."""
    try:
        text = read_toml_text(path)
    except FileNotFoundError:
        text = default_file_text()
    except TomlProblem as exc:
        raise ConfigError(f"{path}: {exc}") from None
    updated = with_setting(text, section, key, value)
    parse(updated, str(path))  # never write a file that would not load
    try:
        write_private(path, updated)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None


def store_api_key(path: Path, key: str) -> None:
    """Save the API key in the config file, created or rewritten with mode 0600."""
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        raise ConfigError("the API key is empty or contains spaces")
    store_setting(path, "claude", "api_key", key)

"""Typed configuration: a TOML file, overridden by command-line settings.

Every field has a type, a default and a one-line help text (core/options.py);
the default file that `assistant config --init` writes is generated from the
same schema, so the two cannot drift apart. Anything wrong is one `ConfigError`
line naming the file, the key and the problem.

The core's own sections are checked here. Each backend and router plugin
declares its own options, read under `[backends.NAME]` and `[routers.NAME]`:
the core keeps those tables as given (`Given`) and the plugin's `Options` class
checks them when the plugin is created and at start-up (core/plugins.py,
core/routing/discovery.py), since the core cannot know a plugin's settings.
A file in the layout from before (`[local]`, `[claude]`, `[budget]`, …) is
read into the new places, and `moved` says where each old section went.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from assistant.core import accounting
from assistant.core.atomic import write_atomic
from assistant.core.options import (
    DOLLARS_MAX,
    SECONDS_MAX,
    TOKENS_MAX,
    ConfigError,
    Given,
    StrList,
    check_value,
    mask_secret,
    section_text,
    toml_value,
)
from assistant.core.options import setting as _f
from assistant.core.secrets import env_name_problem, redact_url
from assistant.core.text import clean_text, named, shown
from assistant.core.tomlfile import TomlProblem, parse_toml, read_toml_text
from assistant.core.words import PREFIX_WORDS

# The tables of plugins' own options: `[backends.NAME]`, `[routers.NAME]`.
PLUGIN_KINDS = ("backends", "routers")


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
class RouterConfig:
    chain: StrList = _f(
        ("privacy", "budget", "quality", "rules"),
        "Routers asked in order (names under `assistant.routers` or plugin files); the first that decides wins. "
        "Each router's own settings are under [routers.NAME].",
    )
    fallback: StrList = _f(
        ("local",),
        "Backends that take a turn, in order, when the chosen one fails before any text arrives "
        "(one that runs on this machine has none); [] = none.",
    )
    plugins_dir: str = _f("", "Folder of router plugin .py files; empty = plugins/ in the config directory.")
    measured_turns: int = _f(50, "How many recent turns per backend the measured speed is taken over.", minimum=1, maximum=100_000)
    unmeasured: str = _f(
        "strongest",
        "Code and edit turns while the cheaper backend's answers on them are not rated enough to trust: "
        "strongest (the most capable available backend takes them until the cheaper one is measured) "
        "or cheapest (the cheaper one takes them, and its answers measure it). Chat and explain turns "
        "always go to the cheapest.",
        choices=("strongest", "cheapest"),
    )
    eval_weight: float = _f(
        1.0,
        "How much one task scored by `assistant eval` weighs against one rated answer in a backend's "
        "quality on that kind of turn; 0 = evaluations are shown (report) but not routed on.",
        minimum=0, maximum=100,
    )


@dataclass(frozen=True, slots=True)
class WindowConfig:
    slide_fraction: float = _f(
        0.25,
        "When the window is full, drop this share of the budget at once (whole oldest turns), "
        "so the prompt's prefix, and with it the KV and prompt caches, changes rarely. "
        "Each backend's budget is its model's context less max_tokens; window_tokens under [backends.NAME] caps it.",
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
    commit: bool = _f(
        True,
        "Commit what a task changed, once at its end, with who wrote it (undo takes the task back); "
        "false: leave the changes uncommitted.",
    )
    lint_cmd: str = _f(
        "auto",
        "A lint command run on a scratch copy with the edit applied (when: see checks) "
        "({files}: the changed files), e.g. \"ruff check {files}\". auto: the linter the project configures "
        "(ruff, flake8, eslint); empty: none.",
    )
    test_cmd: str = _f(
        "auto",
        "The project's tests, run the same way, e.g. \"python -m pytest -x -q\". auto: what the project holds "
        "(pytest, npm test, cargo test, go test, make test, a pyproject test task); empty: none.",
    )
    check_timeout: float = _f(300.0, "Seconds a lint or test run may take before it is stopped.", minimum=1, maximum=86_400)
    check_env: StrList = _f(
        (),
        "Environment variables the checks get besides PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, LC_*, "
        "TERM, TZ, VIRTUAL_ENV, CI and NO_COLOR (nothing else reaches them); a name holding KEY, TOKEN, SECRET, "
        "PASS, PWD, AUTH, SIG, CREDENTIAL, SESSION or COOKIE is refused.",
        check=env_name_problem,
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
class ToolsConfig:
    mode: str = _f(
        "ask",
        "What a task's tools may do unasked: ask (reading the project is free; edits and commands ask), "
        "edits (edits are free too; commands ask), read-only (no edit, no command), auto (everything: "
        "said at start). Rules below come first.",
        choices=("ask", "edits", "read-only", "auto"),
    )
    allow: StrList = _f(
        (),
        'Tool steps that never ask: "TOOL" or "TOOL: PATTERN", e.g. "run: pytest *", "edit: src/**". A '
        "command is split into every command it runs, and each must be allowed.",
    )
    ask: StrList = _f((), 'Tool steps that always ask, in the same form (e.g. "run: git push *"); over allow.')
    deny: StrList = _f((), 'Tool steps that are refused, in the same form (e.g. "run: rm *"); over ask and allow.')
    max_steps: int = _f(20, "Model steps a task may take before it is stopped.", minimum=1, maximum=1000)
    max_tokens: int = _f(
        0, "Tokens (in and out, every step) a task may use before it is stopped; 0 = no cap.", minimum=0,
        maximum=TOKENS_MAX,
    )
    run_timeout: float = _f(120.0, "Seconds a command the model runs may take before it is stopped.",
                            minimum=1, maximum=86_400)  # fmt: skip
    run_env: StrList = _f(
        (),
        "Environment variables a command the model runs gets besides PATH, HOME, USER, LOGNAME, SHELL, LANG, "
        "LANGUAGE, LC_*, TERM, TZ, VIRTUAL_ENV, CI and NO_COLOR; a name holding KEY, TOKEN, SECRET, PASS, PWD, "
        "AUTH, SIG, CREDENTIAL, SESSION or COOKIE is refused.",
        check=env_name_problem,
    )
    read_max_bytes: int = _f(60_000, "Most of a file one read gives the model; a longer one is cut, and says so.",
                             minimum=1_000, maximum=2**31)  # fmt: skip
    output_lines: int = _f(80, "Lines of a command's output the model is shown (the first and the last).",
                           minimum=4, maximum=100_000)  # fmt: skip
    max_results: int = _f(100, "Most matches a grep or a list gives the model; the rest are counted.",
                          minimum=1, maximum=100_000)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CheckpointsConfig:
    enabled: bool = _f(
        True,
        "Keep a checkpoint of the project's files before each task and applied edit (in the data folder, "
        "never in your history), for /rewind, /redo and undo.",
    )
    keep: int = _f(200, "Checkpoints kept per project; older ones are pruned (never the newest 5).",
                   minimum=5, maximum=1_000_000)  # fmt: skip
    max_age_days: float = _f(30.0, "Checkpoints older than this many days are pruned (never the newest 5); 0 = no age limit.",
                             minimum=0, maximum=100_000)  # fmt: skip
    max_file_mib: int = _f(50, "A file larger than this many MiB is left out of checkpoints (a rewind leaves it as it is); "
                           "0 = no limit.", minimum=0, maximum=2**30)  # fmt: skip
    max_files: int = _f(200_000, "A project with more files than this is not checkpointed (a note says so); 0 = no limit.",
                        minimum=0, maximum=2**31)  # fmt: skip


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
        0, "A cap on the window, in the server's tokens; 0 = its context (n_ctx) less max_tokens.", minimum=0, maximum=TOKENS_MAX
    )
    context_tokens: int = _f(0, "The model's context size when the server does not say it (/props, /v1/models); 0 = ask it.",
                             minimum=0, maximum=TOKENS_MAX)  # fmt: skip
    max_tokens: int = _f(1024, "Most tokens generated per answer.", minimum=1, maximum=TOKENS_MAX)
    temperature: float = _f(0.2, "Sampling temperature; negative = not sent (the server's default).", minimum=-1, maximum=2)
    stop: StrList = _f((), "Strings that end an answer where the model writes one (not shown); [] = its own end only.")
    prompt_caching: bool = _f(True, "Ask the server to keep each prompt in its cache (llama-server's cache_prompt).")
    tool_format: str = _f(
        "auto",
        "How a task's tools are offered: native (the API's tools and tool_calls), schema (described in the system "
        "prompt, each reply held to one JSON schema by response_format: for small models, or chat templates that "
        "cannot call tools), or auto (native, unless llama-server's /props says its template cannot call tools).",
        choices=("auto", "native", "schema"),
    )
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


# A server's name is a backend's name: never an `@` prefix the app gives a meaning
# to (a server named `quality` would take `@quality`), nor an installed backend's
# (checked where plugins are known: core/plugins.py).
_SERVER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# A plugin's name as its table names it: an entry point's or a plugin file's.
_PLUGIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")


@dataclass(frozen=True, slots=True)
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    router: RouterConfig = field(default_factory=RouterConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    edits: EditsConfig = field(default_factory=EditsConfig)
    tools: ToolsConfig = field(default_factory=ToolsConfig)
    checkpoints: CheckpointsConfig = field(default_factory=CheckpointsConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    # `[prices."MODEL"]` tables from the file: overrides of the shipped prices.
    prices: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    # `[servers.NAME]` tables: inference servers, each a backend under its name.
    servers: dict[str, ServerConfig] = field(default_factory=dict)
    # `[backends.NAME]` and `[routers.NAME]` tables, as given: each plugin's `Options`
    # checks its own when the plugin is created, and at start-up.
    backends: dict[str, Given] = field(default_factory=dict)
    routers: dict[str, Given] = field(default_factory=dict)
    # Settings of the old layout read into their new places: one line per old section.
    moved: tuple[str, ...] = field(default=(), compare=False)

    def with_overrides(self, overrides: dict[str, Any], source: str = "command line") -> Config:
        return _merge(self, {k: v for k, v in overrides.items() if v is not None}, source)

    def plugin_settings(self, kind: str, name: str) -> Given:
        """What `[kind.NAME]` holds (`kind`: backends or routers); nothing when absent."""
        return getattr(self, kind).get(name, Given())


SECTIONS: dict[str, type] = {
    f.name: f.default_factory  # type: ignore[misc]
    for f in fields(Config)
    if f.name not in ("prices", "servers", "moved", *PLUGIN_KINDS)
}


# -- the layout before plugins declared their own options ---------------------------
# Each old section or key, and where it lives now. A file (or a `--set`) in the old
# layout is read into the new places; `assistant config` says where each went.
MOVED_SECTIONS = {"local": "backends.local", "claude": "backends.claude",
                  "budget": "routers.budget", "privacy": "routers.privacy"}  # fmt: skip
FALLBACK_TO_LOCAL = "claude.fallback_to_local"  # a bool then; `[router] fallback` names the backends now
MOVED_KEYS = {
    FALLBACK_TO_LOCAL: "router.fallback",
    "router.quality_max_context": "routers.rules.quality_max_context",
    "router.local_min_context": "routers.rules.local_min_context",
    "router.fixed_backend": "routers.fixed.backend",
    "router.quality_floor": "routers.quality.floor",
    **{f"router.floor_{kind}": f"routers.quality.floor_{kind}" for kind in ("chat", "explain", "code", "edit", "batch")},
    "router.explore_share": "routers.quality.explore_share",
    "window.claude_tokens": "backends.claude.window_tokens",
    "window.local_tokens": "backends.local.window_tokens",
    "edits.claude_concurrency": "backends.claude.max_concurrency",
    "edits.claude_requests_per_second": "backends.claude.requests_per_second",
}


def _moved_to(dotted: str) -> str | None:
    section, _, key = dotted.partition(".")
    if dotted in MOVED_KEYS:
        return MOVED_KEYS[dotted]
    return f"{MOVED_SECTIONS[section]}.{key}" if section in MOVED_SECTIONS and key else None


def _new_layout(flat: dict[str, Any], where: str) -> tuple[dict[str, Any], list[str]]:
    """`flat` with every old key under its new name (a new name given too wins),
    and one line per old section saying where its keys went."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    moves: dict[str, list[tuple[str, str]]] = {}
    for dotted, value in flat.items():
        target = _moved_to(dotted)
        if target is None:
            new[dotted] = value
            continue
        if dotted == FALLBACK_TO_LOCAL:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {dotted}: expected true or false, got {shown(value)}")
            value = ["local"] if value else []
        section, _, key = dotted.partition(".")
        moves.setdefault(section, []).append((key, target))
        old[target] = value
    return {**old, **new}, [_moved_note(where, section, pairs) for section, pairs in moves.items()]


def _moved_note(where: str, section: str, pairs: list[tuple[str, str]]) -> str:
    """`config.toml: [local] is now [backends.local]`, or the keys that moved, by where to."""
    by_target: dict[str, list[str]] = {}
    for key, target in pairs:
        new_section, _, new_key = target.rpartition(".")
        by_target.setdefault(f"[{new_section}]" + ("" if new_key == key else f" {new_key}"), []).append(key)
    whole = f"[{MOVED_SECTIONS[section]}]" if section in MOVED_SECTIONS else None
    moved = "; ".join(f"{', '.join(keys)} → {label}" for label, keys in by_target.items() if label != whole)
    if whole is None:
        return f"{where}: [{section}] {moved}"
    return f"{where}: [{section}] is now {whole}" + (f" ({moved})" if moved else "")


# -- reading -------------------------------------------------------------------------


def _merge(config: Config, flat: dict[str, Any], where: str) -> Config:
    """Apply `{"section.key": value}` (`{"servers.NAME.key": value}`, and a plugin's
    `{"backends.NAME.key": value}`) to `config`, validating each core setting."""
    flat, notes = _new_layout(flat, where)
    by_section: dict[str, dict[str, Any]] = {}
    servers: dict[str, dict[str, Any]] = {}
    plugins: dict[tuple[str, str], dict[str, Any]] = {}
    for dotted, value in flat.items():
        section, _, key = dotted.partition(".")
        if section == "servers":
            name, _, key = key.partition(".")
            servers.setdefault(_server_name(name, where), {})[key] = value
            continue
        if section in PLUGIN_KINDS:
            name, _, key = key.partition(".")
            if not key:
                raise ConfigError(f"{where}: {named(dotted)}: expected {section}.NAME.KEY")
            plugins.setdefault((section, _plugin_name(section, name, where)), {})[key] = value
            continue
        if section not in SECTIONS or not key:
            known = ", ".join(f"[{s}]" for s in (*SECTIONS, "servers.NAME", *(f"{k}.NAME" for k in PLUGIN_KINDS)))
            raise ConfigError(f"{where}: {named(dotted)}: unknown setting (sections: {known})")
        cls = SECTIONS[section]
        hints = get_type_hints(cls)
        meta = {f.name: f.metadata for f in fields(cls)}
        if key not in meta:
            raise ConfigError(
                f"{where}: {named(dotted)}: unknown key (known in [{section}]: {', '.join(meta)})"
            )
        by_section.setdefault(section, {})[key] = check_value(where, dotted, hints[key], meta[key], value)
    changes: dict[str, Any] = {s: replace(getattr(config, s), **kv) for s, kv in by_section.items()}
    if servers:
        merged = dict(config.servers)
        for name, table in servers.items():
            merged[name] = _server(merged.get(name, ServerConfig()), table, f"{where}: servers.{name}")
        changes["servers"] = merged
    for kind in PLUGIN_KINDS:
        given = {name: table for (k, name), table in plugins.items() if k == kind}
        if given:
            tables = dict(getattr(config, kind))
            changes[kind] = tables | {name: tables.get(name, Given()).plus(where, t) for name, t in given.items()}
    if notes:
        changes["moved"] = tuple(dict.fromkeys((*config.moved, *notes)))
    return replace(config, **changes)


def _server_name(name: str, where: str) -> str:
    if not _SERVER_NAME.fullmatch(name):
        raise ConfigError(f"{where}: servers.{named(name)}: a server's name is lowercase letters, digits, - and _ "
                          "(starting with a letter, at most 40)")  # fmt: skip
    if name in PREFIX_WORDS:
        raise ConfigError(f"{where}: servers.{name}: the name is taken (not an @ word: {', '.join(sorted(PREFIX_WORDS))})")
    return name


def _plugin_name(kind: str, name: str, where: str) -> str:
    if not _PLUGIN_NAME.fullmatch(name):
        raise ConfigError(f"{where}: {kind}.{named(name)}: not a plugin's name (letters, digits, - and _)")
    return name


def _server(base: ServerConfig, table: dict[str, Any], where: str) -> ServerConfig:
    """`base` with `table`'s settings, each checked; the result must name its URL."""
    hints = get_type_hints(ServerConfig)
    meta = {f.name: f.metadata for f in fields(ServerConfig)}
    values = {}
    for key, value in table.items():
        if key not in meta:
            raise ConfigError(f"{where}: {named(key)}: unknown key (known: {', '.join(meta)})")
        values[key] = check_value(where, key, hints[key], meta[key], value)
    server = replace(base, **values)
    if not re.match(r"https?://[^\s/]+", server.base_url):
        raise ConfigError(f"{where}: base_url: expected the server's http:// or https:// URL, "
                          f"got {shown(redact_url(server.base_url))}")  # fmt: skip
    if server.api_key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", server.api_key_env):
        raise ConfigError(f"{where}: api_key_env: expected an environment variable's name, got {shown(server.api_key_env)}")
    return server


def _tables(data: dict[str, Any], section: str, where: str, shape: str) -> dict[str, dict[str, Any]]:
    """The `[section.NAME]` tables of a file."""
    tables = data.pop(section, {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(f"{where}: {section}: expected {shape} tables")
    return tables


def parse(text: str, where: str) -> Config:
    try:
        data = parse_toml(text)
    except TomlProblem as exc:
        raise ConfigError(f"{where}: {exc}") from None
    flat: dict[str, Any] = {}
    prices = data.pop("prices", {})
    _check_prices(prices, where)
    for name, table in _tables(data, "servers", where, "[servers.NAME]").items():
        for key, value in (table or {"base_url": ""}).items():  # an empty table still names its server
            flat[f"servers.{name}.{key}"] = value
    plugins = {kind: _tables(data, kind, where, f"[{kind}.NAME]") for kind in PLUGIN_KINDS}
    for kind, tables in plugins.items():
        for name, table in tables.items():
            for key, value in table.items():
                flat[f"{kind}.{name}.{key}"] = value
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: {named(section)}: expected a [{named(section)}] table, got {shown(table)}")
        for key, value in table.items():
            flat[f"{section}.{key}"] = value
    config = _merge(Config(), flat, where)
    named_only = {  # an empty table still names its plugin: the start-up check finds it
        kind: {name: Given().plus(where, {}) for name in tables if name not in getattr(config, kind)}
        for kind, tables in plugins.items()
    }
    return replace(config, prices=prices, **{kind: getattr(config, kind) | only for kind, only in named_only.items()})


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


def default_file_text(plugins: Sequence[tuple[str, type]] = ()) -> str:
    """A commented config file with every setting at its default: the core's
    sections, then each plugin's (`("backends.local", its Options)`), generated
    from the same classes that check them."""
    lines = [
        "# assistant configuration. Every setting is shown at its default.",
        "# Prices can be overridden per model, e.g.",
        '#   [prices."claude-sonnet-5-5"]',
        "#   cache_read = 0.2",
        "",
    ]
    for section, cls in SECTIONS.items():
        lines += [*section_text(section, cls), ""]
    if plugins:
        lines += [
            "# Each backend's and router's own settings, at their defaults. Uncomment a table and",
            "# the keys you change: a table in the file is checked by its plugin at every start,",
            "# which imports the plugin, so the tables left as they are stay commented out.",
            "",
        ]
    for section, cls in plugins:
        lines += [*section_text(section, cls, commented=True), ""]
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
    """`(dotted key, value)` for every core setting and server, secrets masked (each
    plugin's rows come from its `Options`: core/routing/discovery.py)."""
    rows = [
        (
            f"{section}.{f.name}",
            mask_secret(value) if f.metadata.get("secret") else value,
        )
        for section, cls in SECTIONS.items()
        for f in fields(cls)
        for value in [getattr(getattr(config, section), f.name)]
    ]
    for name, server in sorted(config.servers.items()):
        rows += [(f"servers.{name}.{f.name}", getattr(server, f.name)) for f in fields(ServerConfig)]
        if server.api_key_env:
            rows.append((f"env.{server.api_key_env}", mask_secret(os.environ.get(server.api_key_env))))
    return rows


__all__ = [
    "Config",
    "ConfigError",
    "CostConfig",
    "EditsConfig",
    "GeneralConfig",
    "RouterConfig",
    "ServerConfig",
    "UiConfig",
    "WindowConfig",
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


"""What every command starts from: the config with the command line's settings
(the setting flags of `parser.add_setting_flags`), and the log file.
`start` is how a command gets its config; it sets up logging, once, for all.
`output` is the console a command prints its tables on; `never_fail_to_write`
keeps a character the output's encoding lacks from ending a command; `confirm`
asks the person at the terminal."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from assistant.core import config as config_mod
from assistant.core import routing
from assistant.core.config import Config
from assistant.core.logs import setup_logging
from assistant.core.paths import Paths

if TYPE_CHECKING:
    from rich.console import Console

# A pipe or a file holds every column: no terminal width cuts what is written there.
UNCUT_WIDTH = 10_000


# The flags that shape every answer (`--max-tokens`, `--temperature`: dest `answer.KEY`)
# set KEY on each backend that takes it: these, and every `[servers.NAME]`. Claude's
# current models refuse a sampling temperature, so only its answers' length is set.
ANSWER_TABLES = {"max_tokens": ("backends.local", "backends.claude"), "temperature": ("backends.local",)}


def overrides(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    """The command line's settings over `config`: its flags, then each `--set` (which
    wins over a flag that shapes every answer)."""
    flags = {k: v for k, v in vars(args).items() if "." in k and v is not None}
    given = dict(config_mod.parse_assignment(a) for a in getattr(args, "assignments", None) or [])
    servers = dict.fromkeys([*config.servers, *(k.split(".")[1] for k in given if k.startswith("servers."))])
    flat: dict[str, Any] = {}
    for dotted, value in flags.items():
        section, _, key = dotted.partition(".")
        if section != "answer":
            flat[dotted] = value
            continue
        flat |= {f"{table}.{key}": value for table in (*ANSWER_TABLES[key], *(f"servers.{n}" for n in servers))}
    return flat | given


def backend_named_by(args: argparse.Namespace) -> str:
    """How the command line named the backend every turn goes to, for the route's
    reason ("named with --backend"); "" when it did not (see core/session/opening.py).
    A `--set` wins over the flag, as in `overrides`."""
    if any(config_mod.parse_assignment(a)[0] == "general.backend" for a in getattr(args, "assignments", None) or []):
        return "named with --set general.backend"
    return "named with --backend" if getattr(args, "general.backend", None) is not None else ""


def start(paths: Paths, args: argparse.Namespace, config: Config | None = None) -> Config:
    """The command's config (the file's, or `config`, with the command line's
    settings over it) and the log file set up for it."""
    base = config if config is not None else config_mod.load(paths.config_file)
    config = base.with_overrides(overrides(args, base))
    secrets = routing.check_settings(config)  # every plugin's settings, before anything else
    setup_logging(paths, debug=config.general.debug_log, secrets=secrets)
    return config


def never_fail_to_write() -> None:
    """stdout writes what its encoding cannot hold (`PYTHONIOENCODING=ascii`, a
    Latin-1 terminal) as `?`, stderr as a `\\xe9` escape, instead of raising
    UnicodeEncodeError in the middle of an answer and losing the turn. What
    needs every character exactly (`--json`) is written in ASCII already."""
    for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)  # a test's StringIO has none
        if reconfigure is not None:
            reconfigure(errors=errors)


def output(*, stderr: bool = False) -> Console:
    """The console a command prints on: no markup (names and models are outside
    text); the terminal's width on a terminal, and every column in a pipe or a
    file (`assistant report > r.txt`), where Rich would otherwise cut at 80."""
    from rich.console import Console  # Rich only for the commands that print tables

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream is not None and stream.isatty()
    return Console(markup=False, stderr=stderr, width=None if terminal else UNCUT_WIDTH)


def confirm(question: str) -> bool | None:
    """The user's answer on the terminal; None when there is no terminal to ask on
    (an answer typed ahead into a pipe is nobody's review)."""
    if sys.stdin is None or not sys.stdin.isatty():
        return None
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:  # Ctrl+D
        return False

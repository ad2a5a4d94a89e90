"""`assistant config`: the paths and the effective settings (each installed plugin's
too), and where settings of the old layout moved; `--init` writes a commented
default file, each plugin's section generated from its `Options`; `--set-key`
stores the Claude API key (mode 0600)."""

from __future__ import annotations

import argparse
import getpass
import sys

from assistant.cli.context import start
from assistant.cli.exits import EXIT_USAGE, fail
from assistant.core import config as config_mod
from assistant.core.options import Masked, toml_value
from assistant.core.paths import Paths
from assistant.core.routing import discovery
from assistant.core.secrets import redact

API_KEY_SECTION = "backends.claude"  # where `--set-key` stores the key: the Claude backend's options


def cmd_config(paths: Paths, args: argparse.Namespace) -> int:
    if args.init:
        target = paths.config_file
        if target.exists() and not args.force:
            return fail(f"{target} already exists (use --force to overwrite)")
        text = config_mod.default_file_text(discovery.installed_options(config_mod.Config()))
        try:
            config_mod.write_private(target, text)
        except OSError as exc:
            return fail(f"cannot write {target}: {exc.strerror}")
        print(f"wrote {target}")
        return 0
    if args.set_key:
        return cmd_set_key(paths)
    config = start(paths, args)
    exists = "" if paths.config_file.exists() else "  (not created; `assistant config --init`)"
    print(f"config file  {paths.config_file}{exists}")
    print(f"data dir     {paths.data_dir}")
    print(f"log file     {paths.log_file}")
    for note in config.moved:  # the old layout still works; say once where each section went
        print(f"moved        {note}")
    print()
    for key, value in [*config_mod.effective_settings(config), *discovery.plugin_rows(config)]:
        shown = value if isinstance(value, Masked) else toml_value(value)
        print(f"{key} = {redact(shown)}")  # a server's base_url may carry a password or a key
    return 0


def cmd_set_key(paths: Paths) -> int:
    if sys.stdin is not None and not sys.stdin.isatty():
        key = sys.stdin.readline()
    else:
        key = getpass.getpass("Claude API key (not echoed): ")
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        return fail("the API key is empty or contains spaces", EXIT_USAGE)
    config_mod.store_setting(paths.config_file, API_KEY_SECTION, "api_key", key)
    print(f"stored the API key in {paths.config_file} (readable only by you)")
    return 0

"""`assistant config`: the paths and the effective settings; `--init` writes a
commented default file, `--set-key` stores the Claude API key (mode 0600)."""

from __future__ import annotations

import argparse
import getpass
import sys

from assistant.cli.context import start
from assistant.cli.exits import fail
from assistant.core import config as config_mod
from assistant.core.paths import Paths
from assistant.core.secrets import redact


def cmd_config(paths: Paths, args: argparse.Namespace) -> int:
    if args.init:
        target = paths.config_file
        if target.exists() and not args.force:
            return fail(f"{target} already exists (use --force to overwrite)")
        try:
            config_mod.write_private(target, config_mod.default_file_text())
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
    print()
    for key, value in config_mod.effective_settings(config):
        shown = value if isinstance(value, config_mod.Masked) else config_mod.toml_value(value)
        print(f"{key} = {redact(shown)}")  # a server's base_url may carry a password or a key
    return 0


def cmd_set_key(paths: Paths) -> int:
    if sys.stdin is not None and not sys.stdin.isatty():
        key = sys.stdin.readline()
    else:
        key = getpass.getpass("Claude API key (not echoed): ")
    config_mod.store_api_key(paths.config_file, key)
    print(f"stored the API key in {paths.config_file} (readable only by you)")
    return 0

"""The rules "always, in this project" saved: kept in the data folder, one file per
project (named by a hash of its real path), never in the project itself, where a
repository someone else wrote could carry rules that let its own commands run.

A file that cannot be read or is damaged gives no rules (and says why once in the
log); saving writes the whole file again through the one atomic writer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from assistant.core.atomic import write_atomic
from assistant.core.options import toml_value
from assistant.core.paths import Paths
from assistant.core.tomlfile import TomlProblem, parse_toml, read_toml_text

log = logging.getLogger(__name__)
FOLDER = "project-rules"


def rules_file(root: Path, paths: Paths | None = None) -> Path:
    """Where the project at `root` keeps its saved rules."""
    return (paths or Paths.resolve()).project_folder(FOLDER, root).with_suffix(".toml")


def saved_rules(root: Path, paths: Paths | None = None) -> tuple[str, ...]:
    """The allow rules saved for the project at `root` (none when there is no file, or
    it cannot be read: a damaged file allows nothing)."""
    path = rules_file(root, paths)
    try:
        data = parse_toml(read_toml_text(path))
    except FileNotFoundError:
        return ()
    except TomlProblem as exc:
        log.warning("project rules %s not read: %s", path, exc)
        return ()
    allow = data.get("allow", [])
    return tuple(rule for rule in allow if isinstance(rule, str)) if isinstance(allow, list) else ()


def save_rules(root: Path, rules: Iterable[str], paths: Paths | None = None) -> None:
    """Add `rules` to those saved for the project at `root` (OSError when it cannot be written)."""
    kept = list(saved_rules(root, paths))
    kept += [rule for rule in rules if rule not in kept]
    path = rules_file(root, paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (f"# Rules saved by answering \"always, in this project\" for {toml_value(os.path.realpath(root))}\n"
            f"root = {toml_value(os.path.realpath(root))}\nallow = {toml_value(kept)}\n")  # fmt: skip
    write_atomic(path, text.encode("utf-8", "surrogateescape"), mode=0o600)

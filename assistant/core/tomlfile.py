"""Reading the TOML files a person writes (config, themes, workloads, prices).

`tomllib` raises more than `TOMLDecodeError`: a value nested a few thousand
deep (`a = [[[[…`) exhausts the recursion limit. And the path may name a file of
gigabytes, a FIFO or a device (core/smallfile.py reads only a small regular
file). Every loader goes through `parse_toml` / `read_toml_text`, which turn all
of that into one `TomlProblem` line; each caller wraps it in its own error
(ConfigError, …).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from assistant.core.smallfile import NotReadable, read_small_file

# No hand-written settings file comes near this; anything larger is not one.
MAX_FILE_BYTES = 1 << 20


class TomlProblem(ValueError):
    """One line: what is wrong with the text or the file (without the file's name)."""


def parse_toml(text: str) -> dict[str, Any]:
    """The TOML document `text`, or `TomlProblem`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlProblem(f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise TomlProblem("TOML syntax error: values nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise TomlProblem("TOML syntax error: a number too long to read") from None


def read_toml_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of `path`; `FileNotFoundError` passes through (callers
    often have a default for a missing file), anything else is `TomlProblem`."""
    try:
        data = read_small_file(path, limit)
    except NotReadable as exc:
        raise TomlProblem(str(exc)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TomlProblem(f"cannot read: not UTF-8 text (byte {exc.start})") from None


__all__ = ["MAX_FILE_BYTES", "TomlProblem", "parse_toml", "read_toml_text"]

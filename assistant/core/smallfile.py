"""Reading a small file a person names by path (config, themes, workloads): the
one way every such file is read.

A path can name what is not a file at all: a FIFO (a plain `open` waits for a
writer, for ever), a device (`/dev/zero` never ends), a directory. The file is
opened without blocking and checked on the open descriptor, so what is checked
is what is read, and only a regular file of at most `limit` bytes is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class NotReadable(ValueError):
    """One line: why the file cannot be read (without the file's name)."""


def read_small_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`; `FileNotFoundError` passes through
    (callers often have a default for a missing file), anything else is `NotReadable`."""
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise NotReadable(f"cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL byte in the path
        raise NotReadable(f"cannot read: {exc}") from None
    too_large = NotReadable(f"cannot read: larger than {limit // 1024} KiB, not a settings file")
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise NotReadable(f"cannot read: {file_kind(status.st_mode)}, not a regular file")
        if status.st_size > limit:
            raise too_large
        data = b""
        while len(data) <= limit and (chunk := os.read(fd, limit + 1 - len(data))):
            data += chunk  # the file may have grown since fstat: never past limit + 1
    except OSError as exc:
        raise NotReadable(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise too_large
    return data


def file_kind(mode: int) -> str:
    """What a path that is not a regular file is, as a sentence names it."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


__all__ = ["NotReadable", "file_kind", "read_small_file"]

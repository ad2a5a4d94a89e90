"""Writing a file so that readers and crashes see its old bytes or its new ones, never a part.

The one way the app writes a file it keeps (a config, the token calibration, an
edit, an undo's backup): the bytes go to a temporary file in the same folder,
are flushed to the disk, and the temporary file is renamed over the target in
one step; on any error it is removed, and the target is as it was. The
target's mode and owner are kept (a new file gets 0o644 less the umask).

`write_atomic` does it all for one file. A change of several files that must
land together (core/edits/files.py) writes every temporary file first
(`write_temp`), then renames each (`os.replace`) and syncs the folders
(`fsync_dir`). Temporary files are named `TEMP_PREFIX...`, so that a crash's
leftovers can be found and removed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

TEMP_PREFIX = ".assistant-tmp-"
NAME_MAX = 255  # bytes, as most filesystems count them
_CREATE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
NEW_FILE_MODE = 0o644  # less the umask


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Replace (or create) `path` with `data` in one rename.

    `mode` None keeps the mode of the file replaced (a new one: 0o644 less the
    umask). `before_replace` runs just before the rename, to refuse it (by
    raising) when the target changed under the writer. Raises `OSError`; the
    temporary file never outlives a failure.
    """
    temp = temp_path(path)
    write_temp(temp, path, data, mode)
    try:
        if before_replace is not None:
            before_replace()
        os.replace(temp, path)
    except BaseException:
        unlink_quietly(temp)
        raise
    fsync_dir(path.parent)


def temp_path(path: Path) -> Path:
    """A fresh temporary name beside `path` (`TEMP_PREFIX`, a random token, the name)."""
    # os.urandom, as `secrets.token_hex` reads it, without the `secrets` module: it loads
    # OpenSSL's hashlib (~4 ms), and this module is on the path to the TUI's first frame.
    token = os.urandom(6).hex()
    room = NAME_MAX - len(TEMP_PREFIX) - len(token) - 1
    return path.with_name(f"{TEMP_PREFIX}{token}-{os.fsdecode(os.fsencode(path.name)[:room])}")


def write_temp(temp: Path, target: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to the new file `temp`, on the disk, with the mode (and owner) the
    file `target` should have once `temp` replaces it; `temp` is removed on error."""
    if mode is None:
        mode = _mode_of(target)
    # A new file is created 0o644 so that the umask applies; a replacement stays
    # private until it has its final owner and mode.
    fd = os.open(temp, _CREATE_FLAGS, NEW_FILE_MODE if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            if mode is not None:
                _keep_owner(fd, target)
                os.fchmod(fd, mode)
            os.fsync(fd)
    except BaseException:
        unlink_quietly(temp)
        raise


def fsync_dir(directory: Path) -> None:
    """Best effort: the rename itself on the disk (some filesystems cannot sync a folder)."""
    try:
        fd = os.open(directory, _DIR_FLAGS)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _mode_of(target: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return None  # a new file


def _keep_owner(fd: int, target: Path) -> None:
    """Best effort: root editing someone's file must not leave it owned by root."""
    try:
        st = os.stat(target)
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            os.fchown(fd, st.st_uid, st.st_gid)
    except (OSError, AttributeError):  # AttributeError: no fchown (Windows)
        pass

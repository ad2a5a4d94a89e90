"""Safe paths, faithful reading and atomic writing of the files a proposal changes.

A model chooses the paths and the texts, so neither may damage anything:
- a path is checked before any file is opened: relative, no `..`, no control or
  invisible characters, no name that Unicode or Windows would read as another one,
  never inside `.git/`, and its real path (every symlink followed) inside the root;
- a file is read only when it can be written back byte for byte: UTF-8 with or
  without BOM, or an allowed codec that round-trips; line endings and the final
  newline are kept, so no byte outside the edited spans changes;
- a change set is all or nothing as far as POSIX allows: every file is verified
  against the text the proposal was made from, every temp file is complete and
  fsynced before the first rename, each rename is atomic (a file is always the
  old or the new version), and a failed rename puts back the files already renamed;
- a journal names the temp files before they exist, so `cleanup_pending` removes
  what a crash left; an advisory lock keeps two assistants from interleaving.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from assistant.core import atomic, locks
from assistant.core.atomic import NAME_MAX, TEMP_PREFIX
from assistant.core.edits.types import EditError, FileChange, FileRefused, UnsafePath
from assistant.core.paths import Paths
from assistant.core.project import within_root
from assistant.core.smallfile import file_kind

GIT_JOURNAL = "assistant-pending"  # in <root>/.git/
DATA_JOURNAL = "pending-writes"  # in the data dir, for projects without .git/
BINARY_PROBE = 8192
PATH_MAX = 4095
LOCK_WAIT_S = 5.0
_READ_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
# Control, format (zero-width, bidi overrides, BOM), surrogate and line/paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LONE_LF = re.compile(r"(?<!\r)\n")
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


@dataclass(frozen=True, slots=True)
class TextFile:
    """A file as read, with what it takes to write it back byte for byte."""

    relative: str  # normalised POSIX path relative to the root
    path: Path  # the real file (a symlink inside the root is followed to its target)
    text: str  # decoded; line endings as in the file
    encoding: str  # "utf-8", "utf-8-sig" (BOM) or an allowed codec that round-trips
    mode: int | None  # permission bits; None for a new file
    raw: bytes


@dataclass(frozen=True, slots=True)
class Applied:
    """What `apply_changes` wrote (a change that leaves a file's bytes as they were is not written)."""

    paths: tuple[str, ...]
    created: tuple[str, ...]  # of `paths`, the files that did not exist


@dataclass(frozen=True, slots=True)
class _Write:
    relative: str
    path: Path
    data: bytes
    old: TextFile | None
    temp: Path


def normalise(relative: str) -> str:
    """The one spelling of a path a model wrote ("./a//b.py" → "a/b.py"), or UnsafePath.

    A name that Unicode normalisation, a Windows filesystem or a case-insensitive one
    would read as another name is refused rather than rewritten: the person reviewing
    the diff must see the name that is written."""
    shown = _show(relative)
    if not relative:
        raise UnsafePath("'': names no file")
    hidden = next((ch for ch in relative if unicodedata.category(ch) in _HIDDEN_CATEGORIES), None)
    if hidden is not None:
        raise UnsafePath(f"{shown}: contains the control or invisible character U+{ord(hidden):04X}")
    if "\\" in relative:
        raise UnsafePath(f"{shown}: contains a backslash; write paths with /")
    if relative.startswith("/") or re.match(r"[A-Za-z]:", relative):
        raise UnsafePath(f"{shown}: is absolute; paths are relative to the project root")
    for form in ("NFC", "NFKC"):
        normal = unicodedata.normalize(form, relative)
        if normal != relative:  # ascii(): the two may look the same
            raise UnsafePath(
                f"{_show(ascii(relative))}: reads as {_show(ascii(normal))} once normalised ({form}); "
                "write that name"
            )
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    for part in parts:
        if part == "..":
            raise UnsafePath(f"{shown}: has a '..' component, which can lead outside the project")
        if _is_git(part):
            raise UnsafePath(f"{shown}: is inside .git/, which edits never touch")
        if part.endswith((".", " ")):
            raise UnsafePath(
                f"{shown}: has a name ending in a dot or space, which Windows reads as another name"
            )
        if part.startswith(TEMP_PREFIX):
            raise UnsafePath(
                f"{shown}: uses the name prefix {TEMP_PREFIX!r} reserved for the assistant's temp files"
            )
        if len(part.encode()) > NAME_MAX:
            raise UnsafePath(f"{shown}: has a name longer than {NAME_MAX} bytes")
    if not parts:
        raise UnsafePath(f"{shown}: names no file")
    if relative.endswith("/"):
        raise UnsafePath(f"{shown}: ends with / so names a directory")
    normal = "/".join(parts)
    if len(normal.encode()) > PATH_MAX:
        raise UnsafePath(f"{shown}: is longer than {PATH_MAX} bytes")
    return normal


def resolve(root: Path, relative: str) -> Path:
    """The real file `relative` names under `root` (symlinks followed), or UnsafePath
    when it is outside the root, inside .git/, or exists as something else than a file."""
    return _resolve(_real_root(root), relative)[1]


def read_file(
    root: Path, relative: str, *, max_bytes: int = 1_000_000, fallbacks: tuple[str, ...] = ()
) -> TextFile | None:
    """The file as text, None when it does not exist, FileRefused when it cannot be
    written back faithfully (binary, over `max_bytes`, not UTF-8 nor a `fallbacks` codec)."""
    name, path = _resolve(_real_root(root), relative)
    return _read(name, path, max_bytes, fallbacks)


def encode(original: TextFile | None, new_text: str) -> bytes:
    """`new_text` as the bytes of `original`'s file: its encoding and BOM, its line
    endings (a CRLF file gets CRLF where the new text says "\\n") and its final-newline
    state. A new file is UTF-8 exactly as given."""
    return _encode(original, new_text, original.relative if original else "the new file")


def written_bytes(root: Path, change: FileChange) -> bytes:
    """The bytes `apply_changes` writes for `change` over its file as it is now (its
    encoding, BOM, line endings and final newline kept): what `vcs` records, before
    writing, as the edit's bytes, to know them again after a crash. FileRefused when
    the file cannot be read back faithfully (the write would refuse it too)."""
    name, path = _resolve(_real_root(root), change.path)
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        size = 0
    return _encode(_read(name, path, size, ()), change.after, name)


def write_atomic(path: Path, data: bytes, *, mode: int | None) -> None:
    """Replace the real file `path` by `data` in one rename (core/atomic.py), refused
    when `path` became a symlink meanwhile. `mode` None: a new file, 0o644 less the umask."""
    with _as_edit_error(str(path), "write"):
        atomic.write_atomic(path, data, mode=mode, before_replace=lambda: _refuse_link(path))


def apply_changes(
    root: Path, changes: Sequence[FileChange], *, max_bytes: int = 1_000_000, fallbacks: tuple[str, ...] = ()
) -> Applied:
    """Write every change or none (see the module docstring for how far "none" goes)."""
    if not changes:
        return Applied((), ())
    base = _real_root(root)
    targets = [_resolve(base, change.path) for change in changes]  # every path, before any read
    seen: dict[Path, str] = {}
    for name, path in targets:
        if path in seen:
            raise EditError(f"{seen[path]} and {name} are the same file; a proposal changes each file once")
        seen[path] = name
    journal = _journal(base)
    with _locked(journal.parent, LOCK_WAIT_S) as held:
        if not held:
            raise EditError("another assistant is applying edits in this project; try again")
        _cleanup_journal(journal, base if journal.parent.name == ".git" else None)
        plan = [
            write
            for change, (name, path) in zip(changes, targets, strict=True)
            if (write := _prepare(change, name, path, max_bytes, fallbacks)) is not None
        ]
        if plan:
            _stage(base, journal, plan, max_bytes)
            try:
                _commit(plan)
            finally:  # on failure too: `_commit` removed or renamed every temp file
                atomic.unlink_quietly(journal)
    return Applied(
        tuple(write.relative for write in plan), tuple(write.relative for write in plan if write.old is None)
    )


def cleanup_pending(root: Path) -> list[Path]:
    """Remove the temp files a crash left (those the journals name, and any other
    `.assistant-tmp-*` beside them). Run at start; skipped while another assistant writes."""
    base = _real_root(root)
    removed: list[Path] = []
    for journal, inside in ((base / ".git" / GIT_JOURNAL, base), (_data_journal(create=False), None)):
        if not journal.parent.is_dir():
            continue
        with _locked(journal.parent, 0.0) as held:
            if held:
                removed += _cleanup_journal(journal, inside)
    return removed


# --- paths -------------------------------------------------------------------------


def _real_root(root: Path) -> Path:
    real = Path(os.path.realpath(root))
    if not real.is_dir():
        raise EditError(f"the project root {root} is not a directory")
    return real


def _resolve(base: Path, relative: str) -> tuple[str, Path]:
    name = normalise(relative)
    shown = _show(relative)
    inside = within_root(base / name, base)  # `normalise` refused `..`: only a symlink leads out
    if inside is None:
        raise UnsafePath(f"{shown}: leads outside the project through a symlink")
    target = base / inside
    if not inside.parts:
        raise UnsafePath(f"{shown}: leads to the project root itself through a symlink")
    if any(_is_git(part) for part in inside.parts):
        raise UnsafePath(f"{shown}: leads into .git/ through a symlink")
    if any(unicodedata.category(ch) in _HIDDEN_CATEGORIES for ch in str(inside)):
        raise UnsafePath(f"{shown}: leads through a symlink to a name with control characters")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return name, target  # a new file; its missing parents are made inside `base`
    except OSError as exc:  # a symlink loop, a file used as a directory, ...
        raise UnsafePath(f"{shown}: cannot be checked ({_reason(exc)})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePath(f"{shown}: is {file_kind(st.st_mode)}, not a regular file")
    return name, target


def _is_git(part: str) -> bool:
    # `.GIT`, `.git.`, `.git::$INDEX_ALLOCATION` and the 8.3 name `GIT~1` are .git on some filesystem.
    return part.casefold().split(":")[0].rstrip(". ") in (".git", "git~1")


# --- reading and encoding ---------------------------------------------------------


def _read(name: str, path: Path, max_bytes: int, fallbacks: tuple[str, ...]) -> TextFile | None:
    try:
        fd = os.open(path, _READ_FLAGS)  # no follow: `path` is already the real file
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileRefused(f"{name}: cannot be read ({_reason(exc)})") from None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{name}: is {file_kind(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise FileRefused(f"{name}: {st.st_size} bytes is over the {max_bytes}-byte limit for edits")
        raw = file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise FileRefused(f"{name}: is over the {max_bytes}-byte limit for edits")
    text, encoding = _decode(name, raw, fallbacks)
    return TextFile(name, path, text, encoding, stat.S_IMODE(st.st_mode), raw)


def _decode(name: str, raw: bytes, fallbacks: tuple[str, ...]) -> tuple[str, str]:
    if b"\0" in raw[:BINARY_PROBE]:
        wide = next((label for bom, label in _WIDE_BOMS if raw.startswith(bom)), None)
        if wide:
            raise FileRefused(f"{name}: is {wide}; only UTF-8 files are edited")
        raise FileRefused(f"{name}: looks binary (a NUL byte in its first {BINARY_PROBE // 1024} KB)")
    try:
        if raw.startswith(codecs.BOM_UTF8):
            return raw.decode("utf-8-sig"), "utf-8-sig"
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        offset = exc.start
    for codec in fallbacks:
        try:
            text = raw.decode(codec)
            if text.encode(codec) == raw:  # else writing it back would change bytes
                return text, codec
        except (UnicodeError, LookupError):
            continue
    raise FileRefused(f"{name}: is not UTF-8 (an invalid byte at offset {offset}), so it is not edited")


def _encode(original: TextFile | None, new_text: str, name: str) -> bytes:
    if original is None:
        text, codec = new_text, "utf-8"
    else:
        text, codec = _keep_endings(original.text, new_text), original.encoding
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.start + 1]
        raise FileRefused(f"{name}: the new text has {bad!r}, which {codec} cannot encode") from None


def _keep_endings(old: str, new: str) -> str:
    if not old or not new:
        return new
    if "\r\n" in old and "\n" not in old.replace("\r\n", ""):
        new = _LONE_LF.sub("\r\n", new)  # the planner's "\n" in a CRLF file; kept bytes have none
    old_end, new_end = _final_newline(old), _final_newline(new)
    if old_end and not new_end:
        return new + old_end
    if new_end and not old_end:
        return new[: -len(new_end)]
    return new


def _final_newline(text: str) -> str:
    for end in ("\r\n", "\n", "\r"):
        if text.endswith(end):
            return end
    return ""


# --- writing ------------------------------------------------------------------------


def _prepare(
    change: FileChange, name: str, path: Path, max_bytes: int, fallbacks: tuple[str, ...]
) -> _Write | None:
    current = _read(name, path, max_bytes, fallbacks)
    if current is None and change.before is not None:
        raise EditError(f"{name} was deleted since the proposal was made")
    if current is not None and change.before is None:
        raise EditError(f"{name} was created since the proposal was made")
    if current is not None and current.text != change.before:
        raise EditError(f"{name} changed since the proposal was made")
    if current is not None and not os.access(path, os.W_OK):
        raise FileRefused(f"{name}: is read-only, so it is left as it is")
    data = _encode(current, change.after, name)
    if len(data) > max_bytes:
        raise FileRefused(
            f"{name}: the new text is {len(data)} bytes, over the {max_bytes}-byte limit for edits"
        )
    if b"\0" in data:
        raise FileRefused(f"{name}: the new text has a NUL byte; binary files are not edited")
    if current is not None and data == current.raw:
        return None
    return _Write(name, path, data, current, atomic.temp_path(path))


def _stage(base: Path, journal: Path, plan: list[_Write], max_bytes: int) -> None:
    """Make missing directories, journal the temp names, write every temp file; undo it all on failure."""
    made: list[Path] = []
    written: list[Path] = []
    try:
        for write in plan:
            if write.old is None:
                with _as_edit_error(write.relative, "create its directory"):
                    made += _make_parents(base, write.path)
        with _as_edit_error(str(journal), "write"):
            _write_journal(journal, [write.temp for write in plan])
        for write in plan:
            with _as_edit_error(write.relative, "write"):
                atomic.write_temp(write.temp, write.path, write.data, None if write.old is None else write.old.mode)
            written.append(write.temp)
        for write in plan:  # narrows the window in which another program's edit could be lost
            if not _unchanged(write, max_bytes):
                raise EditError(f"{write.relative} changed while the edit was being written")
    except BaseException:
        for temp in written:
            atomic.unlink_quietly(temp)
        for directory in reversed(made):
            _rmdir_quietly(directory)
        atomic.unlink_quietly(journal)
        raise


def _commit(plan: list[_Write]) -> None:
    """Rename every temp file onto its target; if one fails, put back those already renamed."""
    done: list[_Write] = []
    for write in plan:
        try:
            _replace(write.temp, write.path)
        except BaseException as exc:
            for rest in plan[len(done) :]:
                atomic.unlink_quietly(rest.temp)
            failed = _put_back(done)
            if not isinstance(exc, OSError):
                raise
            undone = f"could not put back {', '.join(failed)}" if failed else "nothing else was changed"
            raise EditError(f"{write.relative}: cannot be replaced ({_reason(exc)}); {undone}") from None
        done.append(write)
    for directory in {write.path.parent for write in plan}:
        atomic.fsync_dir(directory)


def _put_back(done: list[_Write]) -> list[str]:
    failed = []
    for write in reversed(done):
        try:
            if write.old is None:
                os.unlink(write.path)
            else:
                write_atomic(write.path, write.old.raw, mode=write.old.mode)
        except (OSError, EditError):
            failed.append(write.relative)
    return failed


def _unchanged(write: _Write, max_bytes: int) -> bool:
    if write.old is None:
        return not os.path.lexists(write.path)
    try:
        with open(write.path, "rb") as file:
            return file.read(max_bytes + 1) == write.old.raw
    except OSError:
        return False


def _make_parents(base: Path, path: Path) -> list[Path]:
    missing = []
    parent = path.parent
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.parent
    made = []
    try:
        for directory in reversed(missing):
            os.mkdir(directory)
            made.append(directory)
        if os.path.realpath(path.parent) != str(path.parent) or not path.parent.is_relative_to(base):
            raise UnsafePath(f"{path.parent} moved while it was being made")
    except BaseException:
        for directory in reversed(made):
            _rmdir_quietly(directory)
        raise
    return made


def _replace(temp: Path, path: Path) -> None:
    _refuse_link(path)
    os.replace(temp, path)


def _refuse_link(path: Path) -> None:
    if os.path.islink(path):  # `path` is the resolved target; a link here means it moved
        raise UnsafePath(f"{path} became a symlink while the edit was being written")


# --- journal and lock ---------------------------------------------------------------


def _journal(base: Path) -> Path:
    git = base / ".git"
    if git.is_dir() and not git.is_symlink():  # a .git file (worktree, submodule) holds no journal
        return git / GIT_JOURNAL
    return _data_journal(create=True)


def _data_journal(*, create: bool) -> Path:
    data_dir = Paths.resolve().data_dir
    if create:
        with _as_edit_error(str(data_dir), "create the data directory"):
            data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir / DATA_JOURNAL


def _write_journal(journal: Path, temps: list[Path]) -> None:
    # Written in place, not through core/atomic.py: a crash must leave no file but the
    # journal itself, which the next start reads (a partial one names fewer temps).
    fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(b"".join(os.fsencode(temp) + b"\n" for temp in temps))
        file.flush()
        os.fsync(fd)
    atomic.fsync_dir(journal.parent)


def _cleanup_journal(journal: Path, inside: Path | None) -> list[Path]:
    """Remove the temp files `journal` names and their `.assistant-tmp-*` neighbours.
    A journal inside the project could have been planted, so `inside` bounds what it may name."""
    try:
        with open(journal, "rb") as file:
            lines = file.read(1_000_000).split(b"\n")
    except OSError:  # none (the usual case) or unreadable
        return []
    listed = {Path(os.fsdecode(line)) for line in lines if line.startswith(b"/")}
    if inside is not None:
        listed = {path for path in listed if Path(os.path.realpath(path.parent)).is_relative_to(inside)}
    candidates = set(listed)
    for directory in {path.parent for path in listed}:
        try:
            candidates.update(
                directory / entry for entry in os.listdir(directory) if entry.startswith(TEMP_PREFIX)
            )
        except OSError:
            continue
    removed = []
    for path in sorted(candidates):
        try:
            if path.name.startswith(TEMP_PREFIX) and stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
                removed.append(path)
        except OSError:
            continue
    atomic.unlink_quietly(journal)
    return removed


@contextmanager
def _locked(directory: Path, wait_s: float) -> Iterator[bool]:
    """An exclusive advisory lock on `directory` (flock: released when the process dies)."""
    with locks.flocked(os.open(directory, _DIR_FLAGS), wait_s) as held:
        yield held


@contextmanager
def locked_file(path: Path, wait_s: float) -> Iterator[bool]:
    """core/locks.py's lock, an EditError when its file cannot be opened."""
    with ExitStack() as stack:
        with _as_edit_error(str(path), "open the lock file"):
            held = stack.enter_context(locks.locked_file(path, wait_s))
        yield held


# --- small helpers -----------------------------------------------------------------


@contextmanager
def _as_edit_error(name: str, doing: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise EditError(f"{name}: cannot {doing} ({_reason(exc)})") from None


def _rmdir_quietly(path: Path) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


def _reason(exc: OSError) -> str:
    return _show(exc.strerror or str(exc))


def _show(text: str) -> str:
    """`text` on one line: as it is when plain, else as a Python literal; at most 80 characters."""
    shown = text if text and text.isprintable() and text == text.strip() else repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."

"""A project's files as they were at a moment, kept outside the user's history.

Each project has a private git object store and index under the data folder
(`Paths.project_folder("checkpoints", root)`): never a commit, a stash, a ref or a
file the user's repository holds, and the same in a folder that is not a git
repository at all. `take` adds the project's files to the private index (`git add
-A`: what git tracks, and what it would track, ignored files left out) and writes
its tree: the tree's id is the checkpoint. Git's index keeps each file's stat
data, so a file that did not change is not read again; objects are named by their
content, so an unchanged file is stored once however many checkpoints hold it.

What is stored is the bytes on disk: the store's own `info/attributes` turns off
every conversion a project's `.gitattributes` may ask for (line endings, LFS and
other filters, working-tree encodings), and no user or system git config is read
(a hook, an fsmonitor or a filter there never runs). The ignore rules are the
project's: its `.gitignore` files, its repository's `info/exclude` and the user's
global excludes file; outside git, also what a walk of the project skips
(`project_files.SKIPPED_FOLDERS` and hidden folders).

A checkpoint is kept by a ref of the private store (`refs/checkpoints/<tree>`);
`prune` drops the refs past a count or an age (never the newest few) and the
objects no checkpoint holds any more.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.core.atomic import write_atomic
from assistant.core.locks import locked_file
from assistant.core.paths import Paths
from assistant.core.project_files import SKIPPED_FOLDERS

FOLDER = "checkpoints"
LOCK = "lock"
LARGE = "large-files"  # the project's files left out for their size, one path a line
LOCK_WAIT_S = 30.0
GIT_TIMEOUT_S = 600.0  # a first checkpoint of a large project reads every file once
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's id of the tree with nothing in it
REFS = "refs/checkpoints/"  # of the private store: <time_ns>-<tree>
KEEP_ALWAYS = 5  # the newest checkpoints no pruning removes
# Modes git gives a tree entry.
REGULAR, EXECUTABLE, LINK, GITLINK = "100644", "100755", "120000", "160000"
# Every conversion a project's .gitattributes may ask for, off: a checkpoint holds the bytes on disk.
ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding -diff -merge\n"
# Settings of the private store; no other config is read (GIT_CONFIG_GLOBAL, NOSYSTEM).
SETTINGS = {
    "core.bare": "false",
    "core.autocrlf": "false",
    "core.safecrlf": "false",
    "core.symlinks": "true",
    "core.filemode": "true",
    "core.quotePath": "false",
    "core.hooksPath": os.devnull,
    "core.fsmonitor": "false",
    "core.untrackedCache": "true",  # folders whose mtime did not change are not listed again
    "gc.auto": "0",  # pruning is `prune`'s, at a moment the app chooses
    "advice.addEmbeddedRepo": "false",
    "advice.addIgnoredFile": "false",
}
Change = Literal["added", "changed", "deleted"]


class CheckpointError(Exception):
    """The checkpoint store could not do what was asked; one line a person can act on."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a checkpoint: its blob and its git mode."""

    blob: str
    mode: str


@dataclass(frozen=True, slots=True)
class Difference:
    """A file that differs between two checkpoints (None: absent on that side)."""

    path: str
    old: Entry | None
    new: Entry | None

    @property
    def change(self) -> Change:
        return "added" if self.old is None else "deleted" if self.new is None else "changed"


def blob_id(data: bytes) -> str:
    """The id git gives a blob of `data`: what a file on disk is compared by."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def disk_entry(path: Path) -> Entry | None:
    """What the file at `path` would be in a checkpoint; None when it is absent or not
    a file (a folder, a FIFO): an OSError reading it passes through."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    if os.path.islink(path):
        return Entry(blob_id(os.fsencode(os.readlink(path))), LINK)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as file:
        data = file.read()
    return Entry(blob_id(data), EXECUTABLE if st.st_mode & 0o100 else REGULAR)


class Snapshots:
    """The checkpoint store of the project at `root`."""

    def __init__(self, root: Path, paths: Paths | None = None, *, folder: Path | None = None,
                 max_file_bytes: int | None = None, max_files: int | None = None) -> None:  # fmt: skip
        """`max_file_bytes`: a larger file is left out of every checkpoint (a rewind
        neither puts it back nor removes it); `max_files`: a project with more files
        than this is not checkpointed at all (a home folder, a data set)."""
        self.root = Path(os.path.realpath(root))
        self.folder = folder if folder is not None else (paths or Paths.resolve()).project_folder(FOLDER, root)
        self.git_dir = self.folder / "git"
        self.index = self.folder / "index"
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files

    # -- taking one ---------------------------------------------------------------

    def take(self) -> str:
        """The project's files now, stored; the checkpoint's id (a tree). Files that
        cannot be read are left out (and logged by git on its stderr, ignored here)."""
        with self.locked():
            self._prepare()
            self._leave_out_large_files()
            self._git("add", "-A", "--ignore-errors", "--", ".", ok=(0, 1))
            tree = self._git("write-tree").strip()
            # Named by when it was taken (a tree has no date of its own), for `prune`.
            self._git("update-ref", f"{REFS}{time.time_ns()}-{tree}", tree)
            return tree

    def _leave_out_large_files(self) -> None:
        """The files not in a checkpoint yet, checked before they are read: too many of
        them at the first one is a CheckpointError; each larger than `max_file_bytes`
        is left out from now on (`LARGE`, read into the store's ignore rules)."""
        if self.max_file_bytes is None and self.max_files is None:
            return
        first = not self.index.exists()
        new = [p for p in self._git("ls-files", "-z", "--others", "--exclude-standard").split("\0") if p]
        if first and self.max_files is not None and len(new) > self.max_files:
            raise CheckpointError(f"the project has {len(new):,} files, more than [checkpoints] max_files "
                                  f"({self.max_files:,}): it is not checkpointed")  # fmt: skip
        if self.max_file_bytes is None:
            return
        large = [p for p in new if "\n" not in p and _size(self.root / p) > self.max_file_bytes]
        if large:
            listed = self.folder / LARGE
            with contextlib.suppress(FileNotFoundError):
                large = [*listed.read_text("utf-8", "surrogateescape").splitlines(), *large]
            write_atomic(listed, "".join(f"{p}\n" for p in dict.fromkeys(large)).encode("utf-8", "surrogateescape"))
            self._prepare()

    def large_files(self) -> list[str]:
        """The files left out of every checkpoint for their size."""
        try:
            return (self.folder / LARGE).read_text("utf-8", "surrogateescape").splitlines()
        except FileNotFoundError:
            return []

    def _prepare(self) -> None:
        """The private store made once, and its ignore rules brought up to date."""
        if not (self.git_dir / "HEAD").exists():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.folder, 0o700)  # copies of the user's files: theirs alone
            self._git("init", "--quiet", "--bare", str(self.git_dir), store=False)
            (self.git_dir / "info").mkdir(exist_ok=True)
            write_atomic(self.git_dir / "info" / "attributes", ATTRIBUTES.encode())
            write_atomic(self.git_dir / "config", _config_text(), mode=0o600)
            (self.folder / "root").write_text(str(self.root) + "\n", encoding="utf-8", errors="surrogateescape")
        exclude = self._excludes()
        target = self.git_dir / "info" / "exclude"
        with contextlib.suppress(OSError):
            if target.read_bytes() == exclude:
                return
        write_atomic(target, exclude)

    def _excludes(self) -> bytes:
        """The ignore rules besides the project's .gitignore files: its repository's
        own, the user's global ones; outside git, what a walk of the project skips."""
        parts: list[bytes] = []
        repo = _repository_dir(self.root)
        if repo is not None:
            with contextlib.suppress(OSError):
                parts.append((repo / "info" / "exclude").read_bytes())
        else:
            parts.append(b"".join(f"{name}/\n".encode() for name in sorted(SKIPPED_FOLDERS)) + b".*/\n")
        with contextlib.suppress(OSError):
            parts.append(_global_excludes().read_bytes())
        parts.append("".join(f"{_literal_pattern(p)}\n" for p in self.large_files()).encode("utf-8", "surrogateescape"))
        return b"\n".join(parts) + b"\n"

    # -- reading them -------------------------------------------------------------

    def differences(self, old: str, new: str) -> list[Difference]:
        """The files that differ between the checkpoints `old` and `new`, by path."""
        if old == new:
            return []
        out = self._git("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", old, new)
        fields = out.split("\0")
        found = []
        for i in range(0, len(fields) - 1, 2):
            info, path = fields[i], fields[i + 1]
            old_mode, new_mode, old_blob, new_blob, _status = info.lstrip(":").split(" ")
            found.append(Difference(
                path,
                None if set(old_blob) == {"0"} else Entry(old_blob, old_mode),
                None if set(new_blob) == {"0"} else Entry(new_blob, new_mode),
            ))  # fmt: skip
        return found

    def entries(self, tree: str, paths: Sequence[str]) -> dict[str, Entry]:
        """The files of `paths` that the checkpoint `tree` holds (those absent from it are not keys)."""
        if not paths:
            return {}
        found: dict[str, Entry] = {}
        for chunk in _chunks(paths):
            out = self._git("ls-tree", "-z", "-r", "--full-tree", tree, "--", *chunk, literal=True)
            for line in out.split("\0"):
                if line:
                    info, _, path = line.partition("\t")
                    mode, _kind, blob = info.split(" ")
                    found[path] = Entry(blob, mode)
        return found

    def blobs(self, ids: Sequence[str]) -> dict[str, bytes]:
        """The bytes of each blob of `ids`, read in one git process."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        try:
            done = subprocess.run(
                ["git", "cat-file", "--batch"], input=("\n".join(wanted) + "\n").encode(), capture_output=True,
                env=self._env(), cwd=self.root, timeout=GIT_TIMEOUT_S, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CheckpointError(f"git cat-file could not run: {exc}") from exc
        found, out, at = {}, done.stdout, 0
        for blob in wanted:
            end = out.index(b"\n", at)
            header = out[at:end].split(b" ")
            if len(header) != 3:
                raise CheckpointError(f"the checkpoint store lacks {blob[:12]}: it was pruned or damaged")
            size = int(header[2])
            found[blob] = out[end + 1 : end + 1 + size]
            at = end + 1 + size + 1
        return found

    def exists(self, tree: str) -> bool:
        if tree == EMPTY_TREE:
            return True
        try:
            self._git("cat-file", "-e", f"{tree}^{{tree}}")
        except CheckpointError:
            return False
        return True

    # -- keeping them -------------------------------------------------------------

    def prune(self, keep: Sequence[str], *, count: int, max_age_s: float | None, batch: int = 1) -> int:
        """Drop the checkpoints past the newest `count` (at least KEEP_ALWAYS) and those
        older than `max_age_s` (never the newest KEEP_ALWAYS), except the trees of `keep`;
        then the objects no checkpoint holds. Nothing unless at least `batch` can go (the
        objects' walk is paid once for many). How many went."""
        if not (self.git_dir / "HEAD").exists():
            return 0
        with self.locked():
            names = self._git("for-each-ref", "--format=%(refname)", REFS).split()
            refs = sorted(((_taken_at(name), name) for name in names), reverse=True)
            now, dropped = time.time(), []
            for n, (at, name) in enumerate(refs):
                old = max_age_s is not None and now - at > max_age_s
                if n >= KEEP_ALWAYS and (n >= max(count, KEEP_ALWAYS) or old) and name.rsplit("-", 1)[1] not in keep:
                    dropped.append(name)
            if dropped and len(dropped) >= batch:
                self._git("update-ref", "--stdin", stdin="".join(f"delete {name}\n" for name in dropped))
                self._git("prune", "--expire=now")
                return len(dropped)
            return 0

    # -- the store's git ----------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The store's lock: two assistants in one project take turns on its index."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            with locked_file(self.folder / LOCK, LOCK_WAIT_S) as held:
                if not held:
                    raise CheckpointError(f"another assistant has held this project's checkpoints for over "
                                          f"{LOCK_WAIT_S:.0f} s; try again")  # fmt: skip
                yield
        except OSError as exc:
            raise CheckpointError(f"the checkpoint store {self.folder} cannot be used ({exc.strerror or exc})") from exc

    def _env(self, *, store: bool = True, literal: bool = False) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        if store:
            env.update(GIT_DIR=str(self.git_dir), GIT_WORK_TREE=str(self.root), GIT_INDEX_FILE=str(self.index))
        if literal:
            env["GIT_LITERAL_PATHSPECS"] = "1"
        return env

    def _git(self, *args: str, ok: tuple[int, ...] = (0,), store: bool = True, literal: bool = False,
             stdin: str | None = None) -> str:  # fmt: skip
        try:
            done = subprocess.run(
                ["git", *args], capture_output=True, env=self._env(store=store, literal=literal), cwd=self.root,
                timeout=GIT_TIMEOUT_S, check=False, input=None if stdin is None else stdin.encode(),
            )  # fmt: skip
        except FileNotFoundError as exc:
            raise CheckpointError("git is not installed or not on PATH: checkpoints need it") from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CheckpointError(f"git {args[0]} could not run for a checkpoint: {exc}") from exc
        if done.returncode not in ok:
            err = done.stderr.decode("utf-8", "replace").strip().splitlines()
            line = next((e for e in reversed(err) if e.startswith(("fatal:", "error:"))), err[-1] if err else "")
            raise CheckpointError(f"git {args[0]} failed for a checkpoint: {line or f'exit {done.returncode}'}")
        return done.stdout.decode("utf-8", "surrogateescape")


def _config_text() -> bytes:
    sections: dict[str, list[str]] = {}
    for key, value in SETTINGS.items():
        section, name = key.split(".")
        sections.setdefault(section, []).append(f"\t{name} = {value}")
    return "".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in sections.items()).encode()


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _literal_pattern(path: str) -> str:
    """An ignore rule that matches the file `path` only: anchored, every character that
    a pattern reads specially escaped."""
    escaped = "".join("\\" + c if c in "\\*?[]!#" else c for c in path)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped


def _repository_dir(root: Path) -> Path | None:
    """The git directory of the repository `root` is in (a `.git` file of a worktree
    or submodule followed); None outside git."""
    for folder in (root, *root.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = dot.read_text(encoding="utf-8").strip()
                if text.startswith("gitdir:"):
                    found = (folder / text.removeprefix("gitdir:").strip()).resolve()
                    common = found / "commondir"
                    if common.is_file():
                        return (found / common.read_text(encoding="utf-8").strip()).resolve()
                    return found
            return None
    return None


def _global_excludes() -> Path:
    """The user's global ignore file, where git looks for it by default (a path that
    `core.excludesFile` names in the user's config is not read: no config is)."""
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "git" / "ignore"


def _chunks(paths: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(paths), size):
        yield paths[i : i + size]


def _taken_at(ref: str) -> float:
    stamp = ref.removeprefix(REFS).partition("-")[0]
    return int(stamp) / 1e9 if stamp.isdigit() else 0.0

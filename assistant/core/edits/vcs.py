"""Committing applied edits with their provenance, and undoing them.

In a git work tree an edit becomes one commit of exactly its files, whose trailers say
which backend and model wrote it and what it cost. The user's own uncommitted work in
those files is committed alone first ("snapshot before edit"), so no undo can lose it;
every other file, and its staged state, is left exactly as it was (`git commit --only`).

Undo makes a new commit ("undo: …") instead of moving the branch back: history that may
have been pushed is never rewritten, and the log keeps what was tried. It can be
repeated: it walks back from HEAD over undo commits, the edits they undid and snapshots,
to the latest edit not yet undone — and refuses at anything someone else committed.

A file reached through a symlink in the project is recorded under its real path (git
tracks the link itself, which an edit never changes), and a write that git does not see
as a change is an error: an edit that is on disk but in no commit would make undo take
back an older one. One lock per repository (`.git/assistant-apply.lock`) is held from
the checks to the commit, so two assistants never take each other's edit for the
user's work; the second one waits, then finds its file changed since its proposal.
Between the write and the commit, a record in the git directory (pending.py) names the
edit, so that a process killed there has its edit committed as the app's (or taken
back) by the next edit, undo or `ready`, never snapshotted as the user's work.

`Workspace.ready` checks, before a model is paid for an edit, what would stop its
commit (a read-only repository, a file in a submodule, a rebase or bisect under way).

Outside git, the old bytes of the files go to a backup folder before writing; undo puts
them back while the files still hold what the edit wrote.

GitPython is imported inside functions, so importing this module costs start-up nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from assistant.core.atomic import write_atomic
from assistant.core.edits import pending
from assistant.core.edits.files import locked_file, resolve, written_bytes
from assistant.core.edits.pending import digest, sha256_of
from assistant.core.edits.types import EditError, FileChange
from assistant.core.paths import Paths

if TYPE_CHECKING:
    from git import Commit, Repo

SUBJECT_MAX = 72  # the first line of a commit message, as `git log --oneline` shows it
SCOPE_MAX = 40  # what the file names inside "refactor(…)" may take of it
BODY_MAX = 4000  # a long instruction kept in full below the subject, within reason
SNAPSHOT_SUBJECT = "snapshot before edit: "
UNDO_SUBJECT = "undo: "
TRAILER_BACKEND = "Assistant-Backend"
TRAILER_MODEL = "Assistant-Model"
TRAILER_COST = "Assistant-Cost"
TRAILER_UNDO = "Assistant-Undo"  # the commits an undo took back, oldest first
TRAILER_REDO = "Assistant-Redo"  # the undo a redo took back
REDO_SUBJECT = "redo: "
TRAILER_CHECKS = "Assistant-Checks"
TRAILER_TOOLS = "Assistant-Tools"
MANIFEST = "manifest.json"
# Files git leaves in its directory while an operation waits for the user.
IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or am",
    "BISECT_LOG": "a bisect",
}
DETACHED = (
    "HEAD is detached (no branch is checked out): the edit will be committed on no branch; "
    "`git switch -c NAME` keeps it on one"
)
GITLINK = "160000"  # the mode git gives a submodule's entry in a tree
WALK_LIMIT = 1000  # how far undo looks back through undo/undone pairs
APPLY_LOCK = "assistant-apply.lock"  # in the git directory; files.py locks the directory itself
APPLY_WAIT_S = 30.0  # how long a second apply or undo waits for the first

Write = Callable[[Sequence[FileChange]], object]


def no_hooks(environ: Mapping[str, str]) -> dict[str, str]:
    """Variables that turn git's hooks off: config given in the environment outranks
    the repository's own (git >= 2.31), added after any the user gives there."""
    given = environ.get("GIT_CONFIG_COUNT", "0")
    n = int(given) if given.isascii() and given.isdigit() else 0
    return {"GIT_CONFIG_COUNT": str(n + 1), f"GIT_CONFIG_KEY_{n}": "core.hooksPath", f"GIT_CONFIG_VALUE_{n}": os.devnull}
DirtyPolicy = Literal["snapshot", "refuse"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who wrote an edit, for the commit trailers."""

    backend: str
    model: str
    cost: float | None  # dollars; None when the backend cannot say ("unknown")
    instruction: str
    checks: tuple[str, ...] = ()  # the checks the edit passed ("syntax", …), for its trailer
    tools: tuple[str, ...] = ()  # a task's: the tools it used, with how often ("edit ×2", "run"), for its trailer


@dataclass(frozen=True, slots=True)
class Committed:
    """Where an applied edit was recorded."""

    kind: Literal["git", "backup"]
    commit: str | None  # the edit's commit (git); None when the edit changed nothing
    snapshot: str | None  # the "snapshot before edit" commit, when one was needed
    backup_id: str | None  # outside git: the backup to undo from
    paths: tuple[str, ...]


class VcsError(EditError):
    """Git or the backups refused; the message is one line a person can act on."""


# -- messages -------------------------------------------------------------------------


def commit_message(paths: Sequence[str], instruction: str, p: Provenance, *, kind: str = "refactor") -> str:
    """`refactor(a.py): instruction` (or `task(…)`), then the provenance trailers.

    The subject stays within 72 characters; when the instruction had to be shortened
    (or spans lines) it is kept whole in a paragraph between subject and trailers."""
    head = f"{kind}({_scope(paths)}): "
    flat = " ".join(instruction.split()) or "edit"
    subject = head + _shorten(flat, SUBJECT_MAX - len(head))
    whole = instruction.strip()
    body = None
    if whole and (subject != head + flat or "\n" in whole):
        body = _shorten(whole, BODY_MAX)
    return _message(subject, body, _provenance_trailers(p))


def _snapshot_message(paths: Sequence[str], p: Provenance) -> str:
    subject = _shorten(SNAPSHOT_SUBJECT + ", ".join(paths), SUBJECT_MAX)
    return _message(subject, None, _provenance_trailers(p))


def _undo_message(undone: Commit) -> str:
    subject = _shorten(UNDO_SUBJECT + _subject(undone), SUBJECT_MAX)
    return _message(subject, None, {TRAILER_UNDO: undone.hexsha})


def _provenance_trailers(p: Provenance) -> dict[str, str]:
    cost = "unknown" if p.cost is None else f"${p.cost:.4f}"
    trailers = {TRAILER_BACKEND: p.backend, TRAILER_MODEL: p.model, TRAILER_COST: cost}
    if p.checks:
        trailers[TRAILER_CHECKS] = ", ".join(p.checks)
    if p.tools:
        trailers[TRAILER_TOOLS] = ", ".join(p.tools)
    return trailers


def _message(subject: str, body: str | None, trailers: dict[str, str]) -> str:
    lines = "\n".join(f"{k}: {' '.join(v.split()) or 'unknown'}" for k, v in trailers.items())
    return "\n\n".join(part for part in (subject, body, lines) if part) + "\n"


def _scope(paths: Sequence[str]) -> str:
    """One or two files by name (their paths when those fit), more by their count."""
    unique = list(dict.fromkeys(paths))
    if len(unique) > 2:
        return f"{len(unique)} files"
    names = [PurePosixPath(p).name for p in unique]
    for candidate in (", ".join(unique), ", ".join(names)):
        if len(candidate) <= SCOPE_MAX:
            return candidate
    return f"{len(unique)} files" if len(unique) > 1 else _shorten(names[0], SCOPE_MAX)


def _shorten(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    cut = text[: room - 1]
    space = cut.rfind(" ")
    if space >= room // 2:  # end on a word when that does not waste half the room
        cut = cut[:space]
    return cut.rstrip() + "…"


def _trailers(message: str) -> dict[str, str]:
    paragraphs = message.strip().split("\n\n")
    if len(paragraphs) < 2:
        return {}
    found = {}
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            found[key] = value.strip()
    return found


def _subject(commit: Commit) -> str:
    text = commit.message if isinstance(commit.message, str) else commit.message.decode()
    return text.strip().split("\n", 1)[0]


def _describe(commit: Commit) -> str:
    return f'{commit.hexsha[:7]} "{_subject(commit)}"'


# -- the workspace --------------------------------------------------------------------


class Workspace:
    """The project the edits go to: a git work tree, or a plain folder (backups)."""

    def __init__(
        self,
        root: Path,
        *,
        dirty: DirtyPolicy = "snapshot",
        backups_dir: Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.dirty = dirty
        self._backups_dir = backups_dir
        self._settled: list[str] = []  # what settling an interrupted edit did, for undo to say
        # Found the way git finds it, without loading GitPython.
        here = self.root.resolve()
        self.is_git = any((d / ".git").exists() for d in (here, *here.parents))

    @property
    def backups_dir(self) -> Path:
        if self._backups_dir is None:
            self._backups_dir = Paths.resolve().data_dir / "backups"
        return self._backups_dir

    def apply(self, changes: Sequence[FileChange], provenance: Provenance, write: Write) -> Committed:
        """Record the files' state, `write(changes)`, then record the edit.
        If `write` raises, nothing of the edit is committed and the error propagates."""
        reals = [self.real_path(_relative(c.path)) for c in changes]
        paths = tuple(dict.fromkeys(reals))
        if not paths:
            raise VcsError("the edit changes no file")
        if self.is_git:
            with _open(self.root) as git, git.exclusive():
                if settled := pending.settle_interrupted(git):
                    log.warning("%s", settled)  # `ready` says it to the user; this is another process's crash
                return git.apply(paths, list(zip(changes, reals, strict=True)), provenance, write, self.dirty)
        return _Backups(self.root, self.backups_dir).apply(paths, changes, write)

    def snapshot(self, paths: Sequence[str], provenance: Provenance) -> str | None:
        """Before a task first writes `paths`: the user's uncommitted changes in them,
        committed apart ("snapshot before edit"), so that the task's own commit (and
        its undo) holds only what the task did. None when there was nothing to keep
        (or outside git, where the task is not committed)."""
        if not self.is_git:
            return None
        reals = [self.real_path(_relative(p)) for p in paths]
        with _open(self.root) as git, git.exclusive():
            targets = [git.top(p) for p in reals]
            dirty = git.dirty(targets)
            if not dirty:
                return None
            if self.dirty == "refuse":
                raise VcsError(f"{git.local(dirty[0])} has uncommitted changes: commit or stash them, "
                               'or set edits.dirty = "snapshot"')  # fmt: skip
            return git.commit(dirty, _snapshot_message([git.local(t) for t in dirty], provenance))

    def commit_task(self, paths: Sequence[str], provenance: Provenance) -> str | None:
        """A task's changes, as its tools wrote them, in one commit (`task(scope): …`
        with the provenance trailers): `undo` takes the whole task back. None when git
        sees no change, or outside git."""
        if not self.is_git:
            return None
        reals = [self.real_path(_relative(p)) for p in paths]
        with _open(self.root) as git, git.exclusive():
            targets = [git.top(p) for p in reals]
            git.check_ready(targets)
            message = commit_message(reals, provenance.instruction, provenance, kind="task")
            return git.commit(targets, message)

    def commit_restored(self, paths: Sequence[str], *, undone: Sequence[str] = (), redo_of: str = "") -> str | None:
        """The files a rewind put back (core/session/rewind.py), committed as one `undo:`
        naming each commit it took back, oldest first; or a redo's, as `redo:` naming
        the undo it took back. Files git ignores are left out. None when git sees no
        change, or outside git."""
        if not self.is_git:
            return None
        with _open(self.root) as git, git.exclusive():
            git.check_ready()
            targets = git.committable([git.top(_relative(p)) for p in paths])
            if redo_of:
                subject = _shorten(REDO_SUBJECT + _subject(git.repo.commit(redo_of)), SUBJECT_MAX)
                return git.commit(targets, _message(subject, None, {TRAILER_REDO: redo_of}))
            taken = [git.repo.commit(c) for c in undone]
            what = _subject(taken[0]) if len(taken) == 1 else f"{len(taken)} turns ({_scope([git.local(t) for t in targets])})"
            return git.commit(targets, _message(_shorten(UNDO_SUBJECT + what, SUBJECT_MAX), None,
                                                {TRAILER_UNDO: " ".join(undone)}))  # fmt: skip

    def ready(self, paths: Sequence[str] = ()) -> tuple[str, ...]:
        """Before a model is paid for an edit of `paths`: a VcsError, one line, for what
        would stop its commit (a read-only repository, a file inside a submodule or
        ignored, a merge, rebase or bisect under way, no identity); else the lines the
        user should read first (an interrupted edit settled, a detached HEAD). Cheap:
        git's own files and a few git commands. A path that cannot be resolved is left
        to the proposal, which says why."""
        if not self.is_git:
            return ()
        reals = []
        for path in paths:
            with contextlib.suppress(EditError):
                reals.append(self.real_path(_relative(path)))
        with _open(self.root) as git:
            with git.exclusive():
                settled = pending.settle_interrupted(git)
            git.check_ready([git.top(p) for p in reals])
            return tuple(line for line in (settled, DETACHED if git.repo.head.is_detached else None) if line)

    def settle_interrupted(self) -> str | None:
        """At start: the edit a killed process wrote but did not commit, committed as
        the app's edit or taken back (`pending.py`); one line saying so, or None."""
        if not self.is_git:
            return None
        with _open(self.root) as git, git.exclusive():
            return pending.settle_interrupted(git)

    def real_path(self, path: str) -> str:
        """`path` (relative to the root) with every symlink followed, relative to the root:
        the file a write through `path` changes. UnsafePath when that is outside."""
        real = resolve(self.root, path)
        return real.relative_to(os.path.realpath(self.root)).as_posix()

    def last_edit_id(self) -> str | None:
        """The commit (or backup) `undo` would take back; None when there is none."""
        try:
            if self.is_git:
                with _open(self.root) as git, git.exclusive():
                    # Settled first: an interrupted edit, once committed, is the one undo takes back.
                    if settled := pending.settle_interrupted(git):
                        self._settled.append(settled)
                    return git.last_edit().hexsha if git.born() else None
            latest = _Backups(self.root, self.backups_dir).latest()
        except VcsError:
            return None
        return latest[0].name if latest else None

    def forget_backup(self, backup_id: str) -> None:
        """Outside git: the backup of an edit taken back another way (a rewind) goes, so
        that no later undo takes it back twice."""
        if not self.is_git and backup_id and "/" not in backup_id and backup_id not in (".", ".."):
            shutil.rmtree(self.backups_dir / backup_id, ignore_errors=True)

    def undo(self) -> str:
        """Take back the latest edit not yet undone; one line says what was undone."""
        if self.is_git:
            with _open(self.root) as git, git.exclusive():
                if settled := pending.settle_interrupted(git):
                    self._settled.append(settled)
                said, self._settled = [*self._settled, git.undo()], []
                return "; ".join(said)
        return _Backups(self.root, self.backups_dir).undo()


def _relative(path: str) -> str:
    p = PurePosixPath(path)
    if p.is_absolute() or not p.parts or ".." in p.parts or p.parts[0] == ".git":
        raise VcsError(f"{path}: not a path inside the project")
    return p.as_posix()


# -- git ------------------------------------------------------------------------------


@contextlib.contextmanager
def _open(root: Path) -> Iterator[_Git]:
    try:
        from git import Repo
        from git.exc import GitError
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise VcsError(f"GitPython is not installed ({e}): pip install gitpython") from e
    try:
        repo = Repo(root, search_parent_directories=True)
    except GitError as e:
        raise VcsError(f"{root} is not in a usable git repository ({type(e).__name__}: {e})") from e
    if repo.working_tree_dir is None:
        raise VcsError(f"{root} is in a bare git repository: there is no work tree to edit")
    # Paths are names, never patterns: `*.py` or `:x` must not match other files. No
    # hook runs: `--no-verify` skips only two, and `core.hooksPath` may name a folder
    # of the work tree (husky's `.husky/`), which an edit the app writes can change,
    # so a post-commit hook would run model-written code with the user's secrets.
    repo.git.update_environment(GIT_LITERAL_PATHSPECS="1", **no_hooks(os.environ))
    try:
        yield _Git(repo, root)
    finally:
        repo.close()


class _Git:
    def __init__(self, repo: Repo, root: Path) -> None:
        self.repo = repo
        self.root = Path(root)
        top = Path(repo.working_tree_dir or ".").resolve()
        prefix = Path(root).resolve().relative_to(top).as_posix()
        self.prefix = "" if prefix == "." else prefix + "/"

    def run(
        self, *args: str, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None
    ) -> tuple[int, str]:
        from git.exc import GitCommandNotFound

        try:
            status, out, err = getattr(self.repo.git, args[0].replace("-", "_"))(
                *args[1:],
                with_extended_output=True,
                with_exceptions=False,
                env=env,
            )
        except GitCommandNotFound as e:
            raise VcsError("git is not installed or not on PATH") from e
        if status not in ok:
            line = next((s.strip() for s in err.splitlines() if s.strip()), "")
            line = line.removeprefix("fatal: ").removeprefix("error: ")
            raise VcsError(f"git {args[0]} failed: {line or out.strip() or f'exit {status}'}")
        return status, out

    def names(self, *args: str) -> list[str]:
        """The NUL-separated names a command prints (`--name-only -z`, `ls-files -z`…)."""
        return [n for n in self.run(*args)[1].split("\0") if n]

    @property
    def git_dir(self) -> Path:
        return Path(self.repo.git_dir)

    @property
    def work_tree(self) -> Path:
        return Path(self.repo.working_tree_dir or ".")

    def born(self) -> bool:
        return self.repo.head.is_valid()

    def head(self) -> str | None:
        """HEAD's commit id; None in a repository with no commit yet."""
        return self.repo.head.commit.hexsha if self.born() else None

    def top(self, path: str) -> str:
        return self.prefix + path

    def check_ready(self, targets: Sequence[str] = ()) -> None:
        """Refuse before anything is written (or a model is asked) what would stop the
        commit after it: an operation under way, a locked index, no identity, and of
        `targets` (paths from the top) one inside a submodule or ignored."""
        git_dir = self.git_dir
        for name, what in IN_PROGRESS.items():
            if (git_dir / name).exists():
                raise VcsError(f"{what} is in progress in this repository: finish or abort it first")
        index_lock = git_dir / "index.lock"
        if index_lock.exists():
            raise VcsError(
                f"git's index is locked: a git process may be running, or one was killed; "
                f"if none is running, remove {index_lock}"
            )
        self._check_not_in_submodule(targets)  # before check-ignore, which fails raw on such a path
        if targets:
            # It takes paths, never patterns, and refuses the literal flag; -z needs --stdin
            # (so a name with odd characters is only shown quoted in the message).
            literal_off = {"GIT_LITERAL_PATHSPECS": "0"}
            ignored = self.run("check-ignore", "--", *targets, ok=(0, 1), env=literal_off)[1].splitlines()
            if ignored:
                raise VcsError(
                    f"{self.local(ignored[0])} is ignored by git, so the edit could not be committed: "
                    "un-ignore it or edit it yourself"
                )
        self.run("var", "GIT_COMMITTER_IDENT")  # fails when no identity is set

    def _check_not_in_submodule(self, targets: Sequence[str]) -> None:
        """A submodule is a repository of its own: this one can commit only its pointer.
        A checked-out one (or any nested repository) has a .git; one not checked out
        is a gitlink in HEAD's tree."""
        top = self.work_tree
        folders = {str(f): t for t in targets for f in PurePosixPath(t).parents if str(f) != "."}
        nested = [f for f in folders if (top / f / ".git").exists()]
        if not nested and folders and self.born():
            out = self.run("ls-tree", "-z", "HEAD", "--", *folders)[1]
            entries = (line.partition("\t") for line in out.split("\0") if line)
            nested = [path for info, _, path in entries if info.split(" ")[0] == GITLINK]
        if nested:
            inner = max(nested, key=len)
            raise VcsError(
                f"{self.local(folders[inner])} is inside the submodule {self.local(inner)}/, a repository of "
                f"its own: run the edit from inside {self.local(inner)}/"
            )

    def check_writable(self) -> None:
        """Refuse, before the lock file is made, a repository this process cannot write
        to (a read-only mount, another user's clone): nothing could be committed."""
        for folder in (self.git_dir, Path(self.repo.common_dir) / "objects"):
            if not os.access(folder, os.W_OK | os.X_OK):
                raise VcsError(
                    f"the repository is read-only ({folder} is not writable): "
                    "edits can be neither committed nor undone in it"
                )

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """This repository's apply lock, held from the checks before an edit (or an undo)
        to its commit: `Workspace` takes it around `apply` and `undo`."""
        self.check_writable()
        with locked_file(self.git_dir / APPLY_LOCK, APPLY_WAIT_S) as held:
            if not held:
                raise VcsError(
                    f"another assistant has been applying an edit in this repository for over "
                    f"{APPLY_WAIT_S:.0f} s; try again"
                )
            yield

    # -- apply --

    def apply(
        self,
        paths: tuple[str, ...],
        changes: Sequence[tuple[FileChange, str]],
        provenance: Provenance,
        write: Write,
        dirty_policy: DirtyPolicy,
    ) -> Committed:
        """`changes`: each change with the real path it writes (one of `paths`)."""
        targets = [self.top(p) for p in paths]
        self.check_ready(targets)
        dirty = self.dirty(targets)
        snapshot = None
        if dirty and dirty_policy == "refuse":
            more = f" (and {len(dirty) - 1} more)" if len(dirty) > 1 else ""
            raise VcsError(
                f"{self.local(dirty[0])}{more} has uncommitted changes: commit or stash them, "
                'or set edits.dirty = "snapshot"'
            )
        if dirty:
            snapshot = self.commit(dirty, _snapshot_message([self.local(t) for t in dirty], provenance))
        message = commit_message(paths, provenance.instruction, provenance)
        old = {p: sha256_of(self.root / p) for p in paths}
        planned = {real: digest(written_bytes(self.root, change)) for change, real in changes}
        head = self.head()
        pending.record_edit(self, head, message, old, planned)
        try:
            write([change for change, _ in changes])
        except BaseException:
            if all(sha256_of(self.root / p) == old[p] for p in paths):
                pending.clear(self.git_dir)  # nothing written; else the next settle puts it back
            raise
        now = {p: sha256_of(self.root / p) for p in paths}
        if now != planned:  # a writer other than files.apply_changes: the record names what is there
            pending.record_edit(self, head, message, old, now)
        written = [self.top(p) for p in paths if now[p] != old[p]]
        try:
            commit = self.commit(targets, message, must=written)
        except VcsError as e:
            raise VcsError(
                f"the edit was written but not committed: {e}; the next edit or undo commits it (or takes it back)"
            ) from e
        pending.clear(self.git_dir)
        return Committed("git", commit, snapshot, None, paths)

    def local(self, top_path: str) -> str:
        return top_path.removeprefix(self.prefix)

    def committable(self, targets: Sequence[str]) -> list[str]:
        """Of `targets` (paths from the top), those a commit can hold: on disk or known to
        git (a deletion), and not ignored."""
        if not targets:
            return []
        known = set(self.names("ls-files", "-z", "--", *targets))
        here = [t for t in targets if t in known or os.path.lexists(self.work_tree / t)]
        literal_off = {"GIT_LITERAL_PATHSPECS": "0"}
        ignored = set(self.run("check-ignore", "--no-index", "--", *here, ok=(0, 1), env=literal_off)[1].splitlines()) if here else set()
        return [t for t in here if t in known or t not in ignored]

    def dirty(self, targets: list[str]) -> list[str]:
        """Targets whose work tree or index differs from HEAD (untracked ones included)."""
        out = self.run("status", "--porcelain", "-z", "--untracked-files=all", "--", *targets)[1]
        fields, found, i = out.split("\0"), set[str](), 0
        while i < len(fields):
            entry, i = fields[i], i + 1
            if entry:
                found.add(entry[3:])
                if entry[0] in "RC":  # a staged rename or copy: its origin follows
                    i += 1
        return [t for t in targets if t in found]

    def commit(self, targets: list[str], message: str, *, must: Sequence[str] = ()) -> str | None:
        """Commit the work tree's version of exactly `targets`; None when nothing changed.
        `--only` leaves every other path's index entry as the user staged it; hooks are
        skipped, as the user did not ask for this commit and a hook must not reformat it.
        A path of `must` (a file just written) that git sees unchanged is a VcsError."""
        self.run("add", "-A", "--", *targets)
        if self.born():
            changed = self.names("diff", "--cached", "--name-only", "-z", "HEAD", "--", *targets)
        else:
            changed = self.names("ls-files", "-z", "--", *targets)
        unseen = [p for p in must if p not in changed]
        if unseen:
            raise VcsError(
                f"git sees no change in {self.local(unseen[0])} although it was written, so undo "
                "could not take it back; commit or restore it yourself"
            )
        if not changed:
            return None
        self.run("commit", "--only", "--no-verify", "--quiet", "-m", message, "--", *changed)
        return self.repo.head.commit.hexsha

    # -- undo --

    def undo(self) -> str:
        self.check_ready()
        if not self.born():
            raise VcsError("nothing to undo: the repository has no commits yet")
        target = self.last_edit()
        parent = target.parents[0] if target.parents else None
        diff = ["diff-tree", "-r", "--no-commit-id", "--name-only", "-z"]
        paths = self.names(*diff, *(["--root"] if parent is None else []), target.hexsha)
        changed = self.names("diff", "--name-only", "-z", target.hexsha, "--", *paths)
        changed += self.names("diff", "--cached", "--name-only", "-z", target.hexsha, "--", *paths)
        if changed:
            raise VcsError(f"{self.local(changed[0])} changed since the edit: commit or discard that first")
        before: set[str] = set()
        if parent is not None:
            before = set(self.names("ls-tree", "-r", "--name-only", "-z", parent.hexsha, "--", *paths))
        restore = [p for p in paths if p in before]
        remove = [p for p in paths if p not in before]  # files the edit created
        if parent is not None and restore:
            self.run("checkout", parent.hexsha, "--", *restore)
        if remove:
            self.run("rm", "-q", "-f", "--", *remove)  # checked above: nothing of the user's
        self.run("commit", "--only", "--no-verify", "--quiet", "-m", _undo_message(target), "--", *paths)
        return f"undid {_describe(target)}: {', '.join(self.local(p) for p in paths)}"

    def last_edit(self) -> Commit:
        """The latest assistant edit not undone yet, walking back from HEAD over undo
        commits, the edits they undid, and snapshots (the user's work, which undoing an
        older edit keeps: that edit's files are checked unchanged before anything)."""
        head = commit = self.repo.head.commit
        undone: list[str] = []  # edits whose undo commits were passed, latest last
        for _ in range(WALK_LIMIT):
            trailers = _trailers(str(commit.message))
            kind = _kind(commit, trailers)
            if kind == "foreign" and commit == head:
                raise VcsError(
                    f"HEAD is not an assistant commit (someone committed since: {_describe(commit)})"
                )
            if kind == "foreign":
                raise VcsError(f"nothing left to undo: {_describe(commit)} is not an assistant edit")
            if kind == "edit" and not undone:
                return commit
            if kind == "edit" and undone.pop() != commit.hexsha:
                raise VcsError(f"undo history is out of order at {_describe(commit)}: use git revert")
            if kind == "undo":
                undone.extend(trailers[TRAILER_UNDO].split())  # a rewind's names several, oldest first
            if len(commit.parents) != 1:
                break
            commit = commit.parents[0]
        raise VcsError(f"nothing left to undo: no assistant edit before {_describe(commit)}")


def _kind(commit: Commit, trailers: dict[str, str]) -> Literal["edit", "snapshot", "undo", "foreign"]:
    if TRAILER_UNDO in trailers:
        return "undo"
    if TRAILER_BACKEND not in trailers:
        return "foreign"
    return "snapshot" if _subject(commit).startswith(SNAPSHOT_SUBJECT) else "edit"


# -- backups outside git --------------------------------------------------------------


class _Backups:
    """backups_dir/<id>/manifest.json and backups_dir/<id>/files/<path>: the old bytes."""

    def __init__(self, root: Path, backups_dir: Path) -> None:
        self.root = Path(root).resolve()
        self.dir = backups_dir

    def apply(self, paths: tuple[str, ...], changes: Sequence[FileChange], write: Write) -> Committed:
        now = datetime.now(UTC)
        backup_id = f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"
        folder = self.dir / backup_id
        existed: dict[str, bool] = {}
        modes: dict[str, int] = {}  # of the files that existed
        new_dirs: dict[str, str] = {}
        for path in paths:
            source = self.root / path
            existed[path] = source.is_file()
            if existed[path]:
                copy = folder / "files" / path
                copy.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(copy, source.read_bytes())
                modes[path] = stat.S_IMODE(source.stat().st_mode)
            else:
                missing = [
                    d for d in source.parents if d != self.root and self.root in d.parents and not d.exists()
                ]
                if missing:  # the top folder the edit creates, to remove it again on undo
                    new_dirs[path] = missing[-1].relative_to(self.root).as_posix()
        manifest: dict[str, Any] = {
            "version": 1,
            "root": str(self.root),
            "time": now.isoformat(),
            "paths": list(paths),
            "existed": existed,
            "modes": modes,
            "new_dirs": new_dirs,
            "sha256": None,  # filled in once written: until then undo ignores this backup
        }
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / MANIFEST, json.dumps(manifest, indent=1).encode(), mode=0o644)
        try:
            write(changes)
        except BaseException:
            after = {p: sha256_of(self.root / p) for p in paths}
            before = {p: sha256_of(folder / "files" / p) if existed[p] else None for p in paths}
            if after == before:
                shutil.rmtree(folder, ignore_errors=True)  # nothing was written
            else:  # a partial write: keep what undo needs to take it back
                write_atomic(
                    folder / MANIFEST, json.dumps({**manifest, "sha256": after}, indent=1).encode(), mode=0o644
                )
            raise
        manifest["sha256"] = {p: sha256_of(self.root / p) for p in paths}
        write_atomic(folder / MANIFEST, json.dumps(manifest, indent=1).encode(), mode=0o644)
        return Committed("backup", None, None, backup_id, paths)

    def latest(self) -> tuple[Path, dict[str, Any]] | None:
        found: list[tuple[str, Path, dict[str, Any]]] = []
        if self.dir.is_dir():
            for folder in self.dir.iterdir():
                try:
                    manifest = json.loads((folder / MANIFEST).read_text())
                except (OSError, ValueError):
                    continue
                if manifest.get("root") == str(self.root) and manifest.get("sha256"):
                    found.append((folder.name, folder, manifest))
        return max(found, key=lambda f: f[0])[1:] if found else None

    def undo(self) -> str:
        latest = self.latest()
        if latest is None:
            raise VcsError(f"nothing to undo: no backup of an edit in {self.root}")
        folder, manifest = latest
        paths: list[str] = manifest["paths"]
        for path in paths:
            if sha256_of(self.root / path) != manifest["sha256"].get(path):
                raise VcsError(f"{path} changed since the edit: save that elsewhere or discard it first")
        for path in paths:
            target = self.root / path
            if manifest["existed"][path]:
                data = (folder / "files" / path).read_bytes()
                write_atomic(target, data, mode=manifest["modes"][path])
            else:
                target.unlink(missing_ok=True)
                top = manifest["new_dirs"].get(path)
                if top:
                    _remove_empty(target.parent, self.root / top)
        shutil.rmtree(folder, ignore_errors=True)
        return f"restored {', '.join(paths)} from backup {folder.name}"


def _remove_empty(folder: Path, top: Path) -> None:
    """Remove `folder` and its parents up to `top` while they are empty."""
    while True:
        try:
            folder.rmdir()
        except OSError:  # not empty (someone put a file there) or already gone
            return
        if folder == top:
            return
        folder = folder.parent



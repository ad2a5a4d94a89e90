"""`privacy`: a turn with a secret file in its context, or a secret typed into its
message, never goes to the cloud.

A file is secret when it matches one of `[routers.privacy] patterns` or, with
`git_ignored`, when git ignores it in the project (ignored files are where
keys, `.env` files and local data usually live). A message is secret when, with
`typed`, it holds what looks like a key, a token or a private key
(core/typed_secrets.py); the reason names the kind, never the value. Such a turn is
decided for the local model with no fallback but other local backends, even over
`@claude`; any other turn passes. A typed secret the person let go (the turn's
`ALLOW_SECRET` flag: `ask --allow-secret`, or a yes when the TUI asked before
sending it to the backend they named) is left to the rest of the chain.

Patterns are gitignore-style, but match at any depth unless they start with
`/`: `*.pem` and `.env*` match a file (or folder) name anywhere, `secrets/**`
everything under any `secrets` folder, `/build/` only the top-level one; a
trailing `/` matches folders only; `!pattern` re-includes; the last match wins.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import ClassVar

from assistant.core.config import Config
from assistant.core.options import StrList, setting
from assistant.core.globs import match_path, split_pattern
from assistant.core.project import find_root
from assistant.core.routing.protocol import RouteContext, RouteDecision, TurnRequest
from assistant.core.typed_secrets import ALLOW_SECRET, describe, find_secrets
from assistant.routers import local_only_decision

log = logging.getLogger(__name__)


def matches(pattern: str, parts: Sequence[str]) -> bool:
    """Whether the path `parts` (relative, split) matches one gitignore-style pattern.

    A pattern that matches a folder matches everything inside it.
    """
    return match_path(
        split_pattern(pattern), parts,
        anchored=pattern.startswith("/"), inside=True, folders_only=pattern.endswith("/"),
    )  # fmt: skip


def matching_pattern(patterns: Iterable[str], parts: Sequence[str]) -> str | None:
    """The pattern that makes the path secret (gitignore's rule: the last match wins), or None."""
    decided: str | None = None
    for raw in patterns:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        if matches(pattern[1:] if negated else pattern, parts):
            decided = None if negated else pattern
    return decided


def _parts(path: str, root: Path) -> tuple[str, ...]:
    p = PurePath(path.replace("\\", "/"))
    if p.is_absolute():
        try:
            p = p.relative_to(root)
        except ValueError:
            pass
    return tuple(x for x in p.parts if x not in (p.anchor, "", "."))


def _unquote(name: str) -> str:
    """A path as git prints it: C-quoted when it holds `"`, `\\` or control characters."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return codecs.escape_decode(name[1:-1].encode())[0].decode("utf-8", "replace")  # type: ignore[attr-defined]
    return name


@dataclass(frozen=True, slots=True)
class PrivacyOptions:
    """`[routers.privacy]`."""

    patterns: StrList = setting(
        (".env*", "*.pem", "*.key", "id_*", "secrets/**"),
        "Files matching these never go to the cloud (gitignore-style globs).",
    )
    git_ignored: bool = setting(True, "Files git ignores never go to the cloud either.")
    typed: bool = setting(True, "Messages holding what looks like a key, a token or a private key stay local too.")


@dataclass(frozen=True, slots=True)
class PrivacyRouter:
    patterns: tuple[str, ...] = (".env*", "*.pem", "*.key", "id_*", "secrets/**")
    git_ignored: bool = True
    project_root: Path = field(default_factory=find_root)  # the session's, when it has one
    typed: bool = True
    name: ClassVar[str] = "privacy"
    Options: ClassVar[type] = PrivacyOptions

    @classmethod
    def from_config(cls, config: Config, options: PrivacyOptions, project_root: Path | None = None) -> PrivacyRouter:
        return cls(
            options.patterns,
            options.git_ignored,
            Path(project_root) if project_root is not None else find_root(),
            options.typed,
        )

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        secret = self.secret_files(turn.files)
        if secret:
            (first, why), more = secret[0], len(secret) - 1
            also = f" (and {more} more file{'' if more == 1 else 's'})" if more else ""
            return local_only_decision(context, f"privacy: {first} {why}{also}", " only")
        if self.typed and ALLOW_SECRET not in turn.flags and (typed := find_secrets(turn.text)):
            why = f"privacy: the message holds what looks like {describe(typed)}"
            return local_only_decision(context, why, " only")
        return None

    def secret_files(self, files: Sequence[str]) -> list[tuple[str, str]]:
        """`(file, why)` for each secret file, in the turn's order."""
        why: dict[str, str] = {}
        for f in files:
            pattern = matching_pattern(self.patterns, _parts(f, self.project_root))
            if pattern is not None:
                why[f] = f"matches {pattern}"
        if self.git_ignored:
            for f in self._ignored_by_git([f for f in files if f not in why]):
                why[f] = "is ignored by git"
        return [(f, why[f]) for f in dict.fromkeys(files) if f in why]

    def _ignored_by_git(self, files: Sequence[str]) -> list[str]:
        """The files git ignores in the repository holding the project root (none without one)."""
        if not files:
            return []
        try:
            from git import Repo
            from git.exc import (
                CommandError,
                GitCommandError,
                InvalidGitRepositoryError,
                NoSuchPathError,
            )
        except ImportError:
            return []
        try:
            repo = Repo(self.project_root, search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            return []
        try:
            if repo.working_tree_dir is None:
                return []
            tree = Path(repo.working_tree_dir).resolve()
            inside: dict[str, str] = {}  # path relative to the work tree → as the turn names it
            for f in files:
                # A turn's files are named relative to the root (a leading `~` is a name).
                path = (self.project_root / f).resolve()
                try:
                    inside[path.relative_to(tree).as_posix()] = f
                except ValueError:
                    continue  # outside the repository: git cannot say
            if not inside:
                return []
            try:
                # quotepath off: names with non-ASCII letters come back as given, not escaped
                out = repo.git(c="core.quotepath=off").check_ignore("--", *inside)
            except GitCommandError as exc:
                if exc.status == 1:  # nothing ignored
                    return []
                raise
            return [inside[p] for p in map(_unquote, out.splitlines()) if p in inside]
        except (CommandError, OSError, ValueError) as exc:  # git missing or broken: the patterns still apply
            why = " ".join(str(exc).split()) or type(exc).__name__
            log.warning("privacy: cannot ask git which files it ignores: %s", why)
            return []
        finally:
            repo.close()

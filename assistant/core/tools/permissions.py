"""Whether a tool step runs, asks the user, or is refused: decided by the program,
never by the model.

Rules are "TOOL" or "TOOL: PATTERN" under allow, ask and deny (`[tools]` in the
config, `--allow`, saved "always" answers); deny beats ask beats allow, and what
no rule names gets the mode's default. A file tool's pattern is a glob over the
project-relative path (core/globs.py: `src/**`, `*.py` at the top only); a run
pattern is matched against each command the shell would run (core/tools/shell.py),
so `run: git status` never grants `git status && rm -rf x`, and a wrapper such as
`sudo` is its own part that a rule for the wrapped command does not grant. A
redirection that writes a file is an edit of it. A path outside the project is
never allowed by a rule or a default (short of mode auto): it asks.

An "always" answer saves the narrowest rules that cover what asked
(`narrowest_rule`): the program and its subcommand (`git status`, `pytest *`),
the exact command for programs that delete, fetch, escalate or run code given
as text, the exact path for a file.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.core.globs import match_path, split_pattern
from assistant.core.text import one_line
from assistant.core.tools.shell import Simple, split

if TYPE_CHECKING:
    from assistant.core.config import ToolsConfig

TOOLS = ("read", "list", "grep", "edit", "write", "run")
FILE_TOOLS = frozenset(TOOLS[:5])
ANY_TOOL = "*"
ACTIONS = ("allow", "ask", "deny")
MODES = ("ask", "edits", "read-only", "auto")
_RANK = {"allow": 0, "ask": 1, "deny": 2}
_VERB = {"allow": "allowed", "ask": "asks", "deny": "refused"}

# What each mode does with what no rule names.
_DEFAULTS: dict[str, dict[str, str]] = {
    "ask": {"read": "allow", "list": "allow", "grep": "allow", "edit": "ask", "write": "ask", "run": "ask"},
    "edits": {"read": "allow", "list": "allow", "grep": "allow", "edit": "allow", "write": "allow", "run": "ask"},
    "read-only": {"read": "allow", "list": "allow", "grep": "allow", "edit": "deny", "write": "deny", "run": "deny"},
    "auto": dict.fromkeys(TOOLS, "allow"),
}
# Programs whose "always" saves the exact command: they delete, overwrite, fetch,
# escalate, or run code given as text, where `PROGRAM *` would grant anything.
_EXACT_PROGRAMS = frozenset({
    "rm", "rmdir", "dd", "shred", "truncate", "mkfs", "fdisk", "parted", "mount", "umount", "chmod", "chown", "chgrp",
    "chattr", "curl", "wget", "scp", "rsync", "ssh", "nc", "ncat", "socat", "sudo", "doas", "su", "tee", "mv", "cp",
    "ln", "install", "kill", "pkill", "killall", "reboot", "shutdown", "halt", "poweroff", "systemctl", "crontab",
    "find", "xargs", "eval", "exec", "env", "sh", "bash", "zsh", "dash", "ksh", "fish", "npx", "bunx", "uvx", "pipx",
    "node", "deno", "bun", "perl", "ruby", "php", "sed", "awk", "gawk", "osascript", "pwsh", "powershell",
})  # fmt: skip
# Subcommands that destroy, publish or rewrite, saved exactly too (`git push`…).
_EXACT_SUBCOMMANDS: dict[str, frozenset[str]] = {
    "git": frozenset({"push", "reset", "clean", "checkout", "restore", "switch", "rm", "rebase", "filter-branch",
                      "filter-repo", "reflog", "gc", "prune", "update-ref", "config", "remote", "submodule", "stash",
                      "branch", "tag"}),
    "docker": frozenset({"rm", "rmi", "system", "volume", "network", "run", "exec", "push"}),
    "podman": frozenset({"rm", "rmi", "system", "volume", "network", "run", "exec", "push"}),
    "kubectl": frozenset({"delete", "apply", "exec", "edit", "patch", "replace", "scale"}),
    "npm": frozenset({"publish", "unpublish", "exec", "x"}),
    "pnpm": frozenset({"publish", "exec", "dlx"}),
    "yarn": frozenset({"publish", "dlx", "exec"}),
    "cargo": frozenset({"publish", "yank"}),
    "gh": frozenset({"api", "repo", "release", "secret", "auth", "pr", "issue"}),
    "terraform": frozenset({"apply", "destroy", "import", "state"}),
}  # fmt: skip
# Programs whose first argument is a subcommand: options before it save the exact command.
_SUBCOMMAND_PROGRAMS = frozenset({*_EXACT_SUBCOMMANDS, "go", "pip", "pip3", "uv", "apt", "apt-get", "brew", "helm"})
_SUBCOMMAND = re.compile(r"[a-z][a-z0-9-]*")
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_BLANK = re.compile(r"\s")
_FOLDER_CHANGES = frozenset({"cd", "pushd", "popd"})
_GLOB_ESCAPES = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


@dataclass(frozen=True, slots=True)
class Rule:
    action: str  # allow | ask | deny
    tool: str  # one of TOOLS, or "*"
    pattern: str = ""  # "" = anything


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # allow | ask | deny
    reason: str  # one line: the rule or the mode that decided
    # A command's parts that ask or are refused; a file tool's path.
    parts: tuple[str, ...] = ()


def parse_rule(text: str, action: str) -> Rule:
    """`text` ("TOOL" or "TOOL: PATTERN") as a rule; ValueError, one line, when it is not one."""
    if action not in ACTIONS:
        raise ValueError(f'unknown rule action "{action}" (actions: {", ".join(ACTIONS)})')
    said = one_line(text.strip())
    if not said:
        raise ValueError("an empty rule: expected TOOL or TOOL: PATTERN")
    tool, colon, pattern = said.partition(":")
    tool, pattern = tool.strip().casefold(), pattern.strip()
    if tool not in (*TOOLS, ANY_TOOL):
        raise ValueError(f'rule "{said}": unknown tool "{tool}" (tools: {", ".join(TOOLS)}, or * for all)')
    if colon and not pattern:
        raise ValueError(f'rule "{said}": an empty pattern after ":" (leave out the ":" to mean anything)')
    if tool == ANY_TOOL and pattern:
        raise ValueError(f'rule "{said}": * takes no pattern (a path pattern and a command pattern differ)')
    if tool == "run":
        pattern = re.sub(r"[ \t]+", " ", pattern)
    elif pattern:
        pattern = _path_pattern(said, pattern)
    return Rule(action, tool, pattern)


def _path_pattern(said: str, pattern: str) -> str:
    while pattern.startswith("./"):
        pattern = pattern[2:].lstrip("/")
    if pattern.startswith(("/", "~")):
        raise ValueError(f'rule "{said}": a path pattern is relative to the project root (no leading / or ~)')
    if ".." in pattern.split("/"):
        raise ValueError(f'rule "{said}": a path pattern cannot leave the project (..)')
    if not split_pattern(pattern):
        raise ValueError(f'rule "{said}": an empty path pattern')
    return pattern


def describe(rule: Rule) -> str:
    """The rule as the text that parses back to it."""
    return f"{rule.tool}: {rule.pattern}" if rule.pattern else rule.tool


@dataclass(frozen=True, slots=True)
class Permissions:
    mode: str = "ask"
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f'unknown tools mode "{self.mode}" (modes: {", ".join(MODES)})')

    @classmethod
    def from_config(cls, config: ToolsConfig, extra_allow: Iterable[str] = ()) -> Permissions:
        """The `[tools]` settings, with `extra_allow` (from `--allow`, saved "always"
        answers) as allow rules; ValueError naming the rule when one is bad."""
        rules: list[Rule] = []
        lists = (("deny", config.deny, "tools.deny"), ("ask", config.ask, "tools.ask"),
                 ("allow", config.allow, "tools.allow"), ("allow", tuple(extra_allow), "--allow"))  # fmt: skip
        for action, texts, where in lists:
            for text in texts:
                try:
                    rules.append(parse_rule(text, action))
                except ValueError as error:
                    raise ValueError(f"{where}: {error}") from None
        return cls(config.mode, tuple(rules))

    def allowing(self, texts: Iterable[str]) -> Permissions:
        """These permissions and allow rules for `texts` (an "always" answer's)."""
        added = tuple(parse_rule(text, "allow") for text in texts)
        return Permissions(self.mode, (*self.rules, *(rule for rule in added if rule not in self.rules)))

    # -- deciding

    def decide(self, tool: str, subject: str) -> Decision:
        """Whether `tool` may act on `subject`: a project-relative path for the file tools
        ("" for a whole-project list or grep), the command for run."""
        tool = tool.strip().casefold()
        if tool == "run":
            return self._command(subject)
        if tool not in FILE_TOOLS:
            return Decision("deny", f'unknown tool "{_shown(tool)}"', (subject,))
        action, reason = self._one(tool, subject)
        return Decision(action, reason, (subject,))

    def _one(self, tool: str, subject: str, wrapped: str = "") -> tuple[str, str]:
        """One part's action and why: rules by rank (deny, ask, allow), then the mode.
        `wrapped` is a command with its wrappers, which deny and ask rules also see."""
        path = _project_path(subject) if tool in FILE_TOOLS else None
        for action in ("deny", "ask", "allow"):
            for rule in self.rules:
                if rule.action != action or rule.tool not in (tool, ANY_TOOL):
                    continue
                if tool in FILE_TOOLS:
                    if path is None and action == "allow":  # outside the project: no rule allows it
                        continue
                    hit = not rule.pattern or (path is not None and _path_matches(rule.pattern, path))
                else:
                    hit = (
                        not rule.pattern
                        or _command_matches(rule.pattern, subject)
                        or (action != "allow" and bool(wrapped) and _command_matches(rule.pattern, wrapped))
                    )
                if hit:
                    return action, f'{_VERB[action]} by rule "{describe(rule)}"'
        return self._default(tool, path, subject)

    def _default(self, tool: str, path: tuple[str, ...] | None, subject: str) -> tuple[str, str]:
        action = _DEFAULTS[self.mode][tool]
        if self.mode != "auto" and tool in FILE_TOOLS:
            if path is None:
                return _stricter(action, "ask"), f"{_shown(subject)} is outside the project"
            if tool in ("edit", "write") and ".git" in path:
                return _stricter(action, "ask"), "a change inside .git"
        return action, f'mode "{self.mode}" {_MODE_VERB[action]} {_WHAT[tool]}'

    def _parts(self, commands: tuple[Simple, ...]) -> dict[str, tuple[str, str]]:
        """Each part of a command, by how it is shown: its (action, reason); a write is
        shown as `> PATH`, and decided as an edit of PATH."""
        parts: dict[str, tuple[str, str]] = {}

        def add(label: str, tool: str, subject: str, wrapped: str = "") -> None:
            action, reason = self._one(tool, subject, wrapped)
            if label not in parts or _RANK[action] > _RANK[parts[label][0]]:
                parts[label] = (action, reason)

        for simple in commands:
            for wrapper in simple.wrappers:
                add(wrapper, "run", wrapper)
            if simple.argv:
                add(simple.text, "run", simple.text, " ".join((*simple.wrappers, *simple.argv)))
            for path in simple.writes:
                add(f"> {path}", "edit", path)
        return parts

    def _command(self, command: str) -> Decision:
        if not command.strip():
            return Decision("deny", "an empty command")
        found = split(command)
        unreadable = found.unreadable or _folder_doubt(found.commands)
        parts = self._parts(found.commands)
        if not parts and not unreadable:
            return Decision("deny", "no command to run in it")
        worst = max((_RANK[action] for action, _ in parts.values()), default=0)
        flagged = tuple(label for label, (action, _) in parts.items() if action != "allow")
        if worst == _RANK["deny"]:
            label, (_, reason) = next((k, v) for k, v in parts.items() if v[0] == "deny")
            return Decision("deny", f"{_shown(label)}: {reason}", flagged)
        if unreadable:
            return Decision("ask", f"not read with certainty: {unreadable}", flagged)
        if worst == _RANK["ask"]:
            asking = [(k, v) for k, v in parts.items() if v[0] == "ask"]
            label, (_, reason) = asking[0]
            more = f" (and {len(asking) - 1} more)" if len(asking) > 1 else ""
            return Decision("ask", f"{_shown(label)}: {reason}{more}", flagged)
        reasons = dict.fromkeys(reason for _, reason in parts.values())
        return Decision("allow", _cut("; ".join(reasons)))

    # -- an "always" answer

    def narrowest_rule(self, tool: str, subject: str) -> tuple[str, ...]:
        """The rules an "always" answer saves: those of `narrowest_rule` for the parts that
        asked by default (an ask rule is over any allow rule, so nothing is saved for it)."""
        if self.decide(tool, subject).action != "ask":
            return ()
        tool = tool.strip().casefold()
        if tool != "run":
            return narrowest_rule(tool, subject)
        found = split(subject)
        if found.unreadable or _folder_doubt(found.commands):
            return ()
        asked = {
            label for label, (action, reason) in self._parts(found.commands).items()
            if action == "ask" and not reason.startswith(_VERB["ask"] + " by rule")
        }  # fmt: skip
        return _narrowest_parts(found.commands, asked)


_MODE_VERB = {"allow": "allows", "ask": "asks before", "deny": "refuses"}
_WHAT = {
    "read": "reading a file", "list": "listing files", "grep": "searching files", "edit": "an edit",
    "write": "writing a file", "run": "a command",
}  # fmt: skip


def narrowest_rule(tool: str, subject: str, permissions: Permissions | None = None) -> tuple[str, ...]:
    """The rule strings an "always" answer saves for `tool` on `subject`: for run one per
    part (each command, wrapper and written file; with `permissions`, only the parts
    that asked), for a file tool its exact path. Nothing for what no allow rule could
    cover: an unreadable command, a path outside the project, a whole-project search."""
    if permissions is not None:
        return permissions.narrowest_rule(tool, subject)
    tool = tool.strip().casefold()
    if tool == "run":
        found = split(subject)
        if found.unreadable or _folder_doubt(found.commands):
            return ()
        return _narrowest_parts(found.commands, None)
    path = _project_path(subject)
    if tool not in FILE_TOOLS or not path:
        return ()
    return (f"{tool}: {_literal_path('/'.join(path))}",)


def _narrowest_parts(commands: tuple[Simple, ...], asked: set[str] | None) -> tuple[str, ...]:
    rules: dict[str, None] = {}
    for simple in commands:
        for wrapper in simple.wrappers:
            if asked is None or wrapper in asked:
                rules[f"run: {_literal_command(wrapper)}"] = None
        pattern = _command_pattern(simple.argv) if simple.argv else ""
        if pattern and (asked is None or simple.text in asked):
            rules[f"run: {pattern}"] = None
        for path in simple.writes:
            relative = _project_path(path)
            if relative and (asked is None or f"> {path}" in asked):
                rules[f"edit: {_literal_path('/'.join(relative))}"] = None
    return tuple(rules)


def _command_pattern(argv: tuple[str, ...]) -> str:
    """The narrowest pattern worth saving for a command: the program and its subcommand
    (and " *" when more followed), never broader than the program, and the exact
    command for a program that could do anything with other arguments ("" when no
    pattern covers this command alone: joined, `rm "a b"` reads as `rm a b`)."""
    pattern = _pattern_for(argv)
    exact = pattern == _literal_command(" ".join(argv))
    if _BLANK.search(argv[0]) or not argv[0] or (exact and any(not word or _BLANK.search(word) for word in argv)):
        return ""
    return pattern


def _pattern_for(argv: tuple[str, ...]) -> str:
    exact = _literal_command(" ".join(argv))
    program = argv[0]
    base = program.rsplit("/", 1)[-1]
    if len(argv) == 1 or base in _EXACT_PROGRAMS or base.startswith("mkfs."):
        return exact
    if re.fullmatch(r"python[0-9.]*", base):  # `python -m pytest …` is pytest; anything else is code
        if argv[1] == "-m" and len(argv) > 2 and _MODULE.fullmatch(argv[2]):
            return _literal_command(" ".join(argv[:3])) + (" *" if len(argv) > 3 else "")
        return exact
    first = argv[1]
    if _SUBCOMMAND.fullmatch(first):
        if first in _EXACT_SUBCOMMANDS.get(base, ()):
            return exact
        return _literal_command(f"{program} {first}") + (" *" if len(argv) > 2 else "")
    if base in _SUBCOMMAND_PROGRAMS:
        return exact
    return _literal_command(program) + " *"


# -- matching ------------------------------------------------------------------------------


def _project_path(subject: str) -> tuple[str, ...] | None:
    """`subject`'s names below the project root (() for the root itself), or None when
    it is outside (absolute, `~`, or climbing out with `..`)."""
    if subject.startswith(("/", "~")):
        return None
    normal = posixpath.normpath(subject) if subject else "."
    if normal == ".." or normal.startswith("../"):
        return None
    return () if normal == "." else tuple(normal.split("/"))


def _path_matches(pattern: str, path: tuple[str, ...]) -> bool:
    return bool(path) and match_path(split_pattern(pattern), path)


def _literal_path(path: str) -> str:
    """`path` as a pattern that matches it alone."""
    escaped = path.translate(_GLOB_ESCAPES)
    return re.sub(r"^ | $", "[ ]", escaped)


def _literal_command(text: str) -> str:
    """`text` as a run pattern that matches it alone: `*` and `\\` escaped."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


@lru_cache(maxsize=1024)
def _pieces(pattern: str) -> tuple[str, ...]:
    """A run pattern's literal text between its wildcards (`\\*` is a literal star)."""
    pieces, current, i = [], [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and pattern[i + 1 : i + 2] in ("*", "\\"):
            current.append(pattern[i + 1])
            i += 2
            continue
        if c == "*":
            pieces.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    pieces.append("".join(current))
    return tuple(pieces)


def _command_matches(pattern: str, text: str) -> bool:
    """Whether a run pattern matches a command's text: `*` is any run of characters,
    and a trailing " *" also matches nothing (`pytest *` matches `pytest`)."""
    pieces = _pieces(pattern)
    optional_tail = len(pieces) > 1 and pieces[-1] == "" and pieces[-2].endswith(" ")
    return (optional_tail and _fits((*pieces[:-2], pieces[-2][:-1]), text)) or _fits(pieces, text)


def _fits(pieces: tuple[str, ...], text: str) -> bool:
    """Literal pieces with a wildcard between each two: the first a prefix, the last a
    suffix, the others found leftmost in between (steps in proportion to the text)."""
    if len(pieces) == 1:
        return text == pieces[0]
    first, last = pieces[0], pieces[-1]
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    at, end = len(first), len(text) - len(last)
    for piece in pieces[1:-1]:
        found = text.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


# -- helpers --------------------------------------------------------------------------------


def _folder_doubt(commands: tuple[Simple, ...]) -> str:
    """A command that changes folder and writes through a redirection writes where the
    rules cannot tell."""
    moves = any(s.argv and s.argv[0].rsplit("/", 1)[-1] in _FOLDER_CHANGES for s in commands)
    if moves and any(s.writes for s in commands):
        return "a redirection after a change of folder writes where the rules cannot tell"
    return ""


def _stricter(one: str, other: str) -> str:
    return one if _RANK[one] >= _RANK[other] else other


def _shown(label: str) -> str:
    return _cut(one_line(label), 120)


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "ACTIONS", "FILE_TOOLS", "MODES", "TOOLS", "Decision", "Permissions", "Rule", "describe", "narrowest_rule",
    "parse_rule",
]  # fmt: skip

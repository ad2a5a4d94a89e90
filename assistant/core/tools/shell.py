"""A shell command split into every command it runs, for the permission rules.

A rule such as `run: git status` must never grant `git status && rm -rf x`
(OpenCode #40158), so a command is read the way the shell reads it: through `&&`,
`||`, `;`, pipes, `&`, newlines, subshells, `{ …; }` groups, command substitutions
(inside double quotes and backticks too, nested), `bash -c` strings, and wrappers
such as `sudo`, `env` or `xargs`, which are kept apart (`Simple.wrappers`) so that
each is approved on its own. Redirections that write a file are collected
(`Simple.writes`): a write is an edit.

What cannot be read with certainty is said (`Split.unreadable`), never guessed:
here-documents, `eval` and `source`, process substitution, keywords such as `if`
or `for`, a command name the shell would expand, control characters. The reader
still goes on through such a command as well as it can, so that a denied part in
it is still found; the caller asks a person about the rest.

The reader is a small tokenizer of its own (shlex does not know substitutions or
redirections): one pass, regular expressions over runs of plain characters, so a
100 KB command is read in well under a second; nesting deeper than `MAX_DEPTH`
is itself unreadable rather than a recursion error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.core.text import one_line

MAX_DEPTH = 24  # subshells, substitutions and `bash -c` strings inside each other

# Characters that are never in a command a person means to run: C0 and C1 controls
# but tab and newline (a carriage return can hide what follows it on a terminal),
# invisible format characters (zero-width, bidirectional overrides), lone surrogates.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
    "\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
# A run of characters that mean nothing special inside an unquoted word.
_PLAIN = re.compile(r"[^ \t\n;&|()<>'\"\\$`*?\[{]+")
_DOUBLE_PLAIN = re.compile(r'[^"\\$`]+')
_BACKTICK_PLAIN = re.compile(r"[^\\`]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_FD = re.compile(r"[0-9]+|\{[A-Za-z_][A-Za-z0-9_]*\}")
_DUPLICATE = re.compile(r"[0-9]+-?|-")
# `${NAME}`, `${#NAME}`, `${NAME:-word}`, `${NAME%.py}`…: nothing inside that could run a command.
_BRACED = re.compile(r"\$\{[A-Za-z0-9_#:%/?=+.,*@!^~ \[\]-]*\}")
# Longest first: the first that the text starts with is the operator.
_REDIRECTIONS = ("&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", "<(", "<", ">>", ">|", ">&", ">(", ">")
_WRITING = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_NOT_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
_ENDS_WORD = " \t\n;&|()<>"
_SHELL_CHARACTERS = re.compile(r"[\s;&|()<>`$'\"\\]")


@dataclass(frozen=True, slots=True)
class Simple:
    """One command the shell runs.

    argv: its words after quote removal, wrappers removed (empty for a bare
    assignment or a bare redirection: `X=1`, `> file`); text: those words joined
    by single spaces, what rules match; wrappers: what was stripped in front of
    it, in order: leading `X=1` assignments, wrapper programs as written (`sudo`,
    `/usr/bin/env`), the assignments `env` or `sudo` was given, and the shell of
    a `bash -c` string; writes: the files its redirections write."""

    argv: tuple[str, ...]
    text: str
    wrappers: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()

    @classmethod
    def of(cls, argv: tuple[str, ...], wrappers: tuple[str, ...] = (), writes: tuple[str, ...] = ()) -> Simple:
        return cls(argv, " ".join(argv), wrappers, writes)


@dataclass(frozen=True, slots=True)
class Split:
    """Every command a command line runs, substitutions first; `unreadable` is why it
    could not be read with certainty ("" when it could)."""

    commands: tuple[Simple, ...] = ()
    unreadable: str = ""


def split(command: str) -> Split:
    """`command` as the shell would run it (never raises)."""
    sink = _Sink()
    control = _CONTROL.search(command)
    if control:
        sink.trouble(f"a control or invisible character (U+{ord(control.group()):04X})")
    try:
        _Scanner(command, sink, 0).run()
    except _TooDeep:
        sink.trouble(f"nested more than {MAX_DEPTH} deep")
    return Split(tuple(sink.commands), sink.problem)


# -- wrappers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Options:
    """How a wrapper program reads its own options before the command it runs."""

    flags: str = ""  # short options without an argument
    valued: str = ""  # short options with an argument (attached or the next word)
    attached: str = ""  # short options whose argument, if any, is attached (`xargs -i{}`)
    long_flags: frozenset[str] = frozenset()
    long_valued: frozenset[str] = frozenset()  # `--name value` or `--name=value`
    long_attached: frozenset[str] = frozenset()  # `--name` or `--name=value`
    positional: int = 0  # words before the command (timeout's duration)
    assignments: bool = False  # NAME=VALUE words before the command (env, sudo)
    numeric: bool = False  # `-10` (nice)
    dash: bool = False  # `-` alone is an option (env)


_WRAPPERS: dict[str, _Options] = {
    "sudo": _Options(
        flags="AbBEHiKklnNPsSvV", valued="CDgprRtTuU",
        long_flags=frozenset({"askpass", "background", "bell", "preserve-env", "set-home", "login", "remove-timestamp",
                              "reset-timestamp", "non-interactive", "no-update", "preserve-groups", "stdin", "shell"}),
        long_valued=frozenset({"close-from", "chdir", "group", "prompt", "chroot", "role", "type", "command-timeout",
                               "other-user", "user"}),
        assignments=True,
    ),
    "env": _Options(
        flags="i0v", valued="uC",
        long_flags=frozenset({"ignore-environment", "null", "debug"}), long_valued=frozenset({"unset", "chdir"}),
        assignments=True, dash=True,
    ),
    "nohup": _Options(),
    "xargs": _Options(
        flags="0oprtx", valued="adEILnPs", attached="eil",
        long_flags=frozenset({"null", "open-tty", "interactive", "no-run-if-empty", "verbose", "exit"}),
        long_valued=frozenset({"arg-file", "delimiter", "max-args", "max-procs", "max-chars", "process-slot-var"}),
        long_attached=frozenset({"eof", "replace", "max-lines"}),
    ),
    "time": _Options(flags="p"),
    "nice": _Options(valued="n", long_valued=frozenset({"adjustment"}), numeric=True),
    "timeout": _Options(
        flags="v", valued="sk", long_flags=frozenset({"preserve-status", "foreground", "verbose"}),
        long_valued=frozenset({"signal", "kill-after"}), positional=1,
    ),
    "command": _Options(flags="pvV"),
    "exec": _Options(flags="cl", valued="a"),
    "stdbuf": _Options(valued="ioe", long_valued=frozenset({"input", "output", "error"})),
    "builtin": _Options(),
}  # fmt: skip

_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_SHELL_FLAGS = "abefhklmnprstuvxBCEHPTi"
_SHELL_LONG = frozenset({"login", "norc", "noprofile", "posix", "restricted", "verbose", "noediting", "debugger",
                         "dump-strings", "dump-po-strings", "protected"})  # fmt: skip
_SHELL_LONG_VALUED = frozenset({"rcfile", "init-file"})

# Builtins that run commands the text does not show, or change what a name runs.
_EVALUATES = frozenset({"eval", "source", ".", "trap", "let", "alias", "fc", "hash", "enable", "bind", "shopt"})
# Keywords read past: what follows is a command. A condition or a loop makes the text
# unreadable (what runs depends on it); the words that continue one were flagged with it.
_UNREADABLE_KEYWORDS = frozenset({"if", "while", "until", "coproc"})
_KEYWORDS_THEN_COMMAND = _UNREADABLE_KEYWORDS | {"then", "else", "elif", "do"}
_READ_PAST = frozenset({"!", "{", "}", "fi", "done", "esac"})
_BEFORE_SUBSHELL = _READ_PAST | _KEYWORDS_THEN_COMMAND | {"time"}
# Keywords after which the words are no command at all.
_KEYWORDS_NO_COMMAND = frozenset({"for", "select", "case", "function", "[[", "]]", "in"})


# -- the reader ----------------------------------------------------------------------------


class _TooDeep(Exception):
    pass


@dataclass(slots=True)
class _Sink:
    """What a reading found: the commands, in order, and the first reason for doubt."""

    commands: list[Simple] = field(default_factory=list)
    problem: str = ""

    def trouble(self, why: str) -> None:
        if not self.problem:  # one short line, whatever text it quotes
            why = one_line(why)
            self.problem = why if len(why) <= 160 else why[:159] + "…"


@dataclass(slots=True)
class _Word:
    value: str = ""
    raw: str = ""  # as written
    exact: bool = True  # the value is what the program gets: nothing expanded, globbed or decoded
    split_safe: bool = True  # no unquoted expansion (which the shell would split into more words)
    backslash: bool = False  # an unquoted backslash (`\rm` skips an alias)
    glob_bracket: bool = False
    brace: bool = False


@dataclass(slots=True)
class _Command:
    words: list[_Word] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)


class _Scanner:
    def __init__(self, text: str, sink: _Sink, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _TooDeep
        self.text, self.sink, self.depth = text, sink, depth
        self.pos, self.end = 0, len(text)

    def run(self) -> None:
        self._list("")

    def _nested(self) -> None:
        """Read a subshell's or a substitution's commands, up to its `)`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep
        self._list(")")
        self.depth -= 1

    def _list(self, closer: str) -> None:
        """Commands up to `closer` (")", or "" for the end of the text)."""
        text, trouble = self.text, self.sink.trouble
        cmd = _Command()
        while True:
            pos = self.pos
            if pos >= self.end:
                self._finish(cmd)
                if closer:
                    trouble("an unclosed ( or $(")
                return
            c = text[pos]
            if c in " \t":
                self.pos += 1
            elif c == "\\" and text.startswith("\n", pos + 1):
                self.pos += 2
            elif c == "#":  # only reached where a word would start: a comment
                stop = text.find("\n", pos)
                self.pos = self.end if stop < 0 else stop
            elif c in "\n;":
                if text.startswith(";;", pos) or text.startswith(";&", pos):
                    trouble("a case clause")
                self._finish(cmd)
                cmd = _Command()
                self.pos += 2 if text.startswith(";;", pos) or text.startswith(";&", pos) else 1
            elif (c == "&" and not text.startswith("&>", pos)) or c == "|":
                self._finish(cmd)
                cmd = _Command()
                self.pos += 2 if text[pos + 1 : pos + 2] in ("&", "|") else 1
            elif c == "(":
                if cmd.writes or any(w.raw not in _BEFORE_SUBSHELL for w in cmd.words):
                    trouble("a function definition or an array")
                if text.startswith("((", pos):
                    trouble("an arithmetic command ((…))")
                self.pos += 1
                self._nested()
            elif c == ")":
                self._finish(cmd)
                cmd = _Command()
                self.pos += 1
                if closer:
                    return
                trouble("an unmatched )")
            elif c in "<>&":
                self._redirect(cmd)
            else:
                word = self._word()
                if _FD.fullmatch(word.raw) and text[self.pos : self.pos + 1] in ("<", ">"):
                    self._redirect(cmd)  # `2>`: the word was the descriptor
                else:
                    cmd.words.append(word)

    def _finish(self, cmd: _Command) -> None:
        if cmd.words or cmd.writes:
            _Resolver(self, cmd.writes).resolve(cmd.words)

    # -- redirections

    def _redirect(self, cmd: _Command) -> None:
        text, trouble = self.text, self.sink.trouble
        op = next(o for o in _REDIRECTIONS if text.startswith(o, self.pos))
        self.pos += len(op)
        if op in ("<(", ">("):
            trouble("a process substitution")
            self._nested()
            return
        if op in ("<<", "<<-"):
            trouble("a here-document")
        while self.pos < self.end and text[self.pos] in " \t":
            self.pos += 1
        if self.pos >= self.end or text[self.pos] in _ENDS_WORD:
            trouble(f"a redirection {op} without a target")
            return
        target = self._word()
        if op not in _WRITING or (op == ">&" and target.exact and _DUPLICATE.fullmatch(target.value)):
            return
        if not target.exact:
            trouble(f"a redirection to a path the shell expands ({target.raw})")
        if target.value not in _NOT_FILES:
            cmd.writes.append(target.value)

    # -- words

    def _word(self) -> _Word:
        text, word = self.text, _Word()
        start = self.pos
        parts: list[str] = []
        while self.pos < self.end:
            plain = _PLAIN.match(text, self.pos)
            if plain:
                parts.append(plain.group())
                self.pos = plain.end()
                continue
            c = text[self.pos]
            if c in _ENDS_WORD:
                break
            if c == "'":
                stop = text.find("'", self.pos + 1)
                if stop < 0:
                    self.sink.trouble("an unclosed ' quote")
                    stop = self.end
                parts.append(text[self.pos + 1 : stop])
                self.pos = stop + 1
            elif c == '"':
                self._double(word, parts)
            elif c == "\\":
                following = text[self.pos + 1 : self.pos + 2]
                if following != "\n":
                    parts.append(following or "\\")
                    word.backslash = True
                self.pos += 2
            elif c == "$":
                self._dollar(word, parts, quoted=False)
            elif c == "`":
                self._backtick(word, parts, quoted=False)
            else:  # * ? [ {: a pattern or a brace expansion, if the rest of the word makes one
                if c in "*?":
                    word.exact = False
                elif c == "[":
                    word.glob_bracket = True
                else:
                    word.brace = True
                parts.append(c)
                self.pos += 1
        self.pos = min(self.pos, self.end)
        word.value, word.raw = "".join(parts), text[start : self.pos]
        if (
            (word.glob_bracket and "]" in word.value)
            or (word.brace and ("," in word.value or ".." in word.value))
            or word.raw.startswith("~")
        ):
            word.exact = False
        return word

    def _expansion(self, word: _Word, parts: list[str], raw: str, *, quoted: bool) -> None:
        parts.append(raw)
        word.exact = False
        word.split_safe = word.split_safe and quoted

    def _double(self, word: _Word, parts: list[str]) -> None:
        """A "…" string: only `$`, backticks and backslashes mean something inside."""
        text = self.text
        self.pos += 1
        while self.pos < self.end:
            plain = _DOUBLE_PLAIN.match(text, self.pos)
            if plain:
                parts.append(plain.group())
                self.pos = plain.end()
                continue
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return
            if c == "\\":
                following = text[self.pos + 1 : self.pos + 2]
                if following and following in '$`"\\':
                    parts.append(following)
                    self.pos += 2
                elif following == "\n":
                    self.pos += 2
                else:
                    parts.append("\\")
                    self.pos += 1
            elif c == "$":
                self._dollar(word, parts, quoted=True)
            else:
                self._backtick(word, parts, quoted=True)
        self.sink.trouble('an unclosed " quote')

    def _dollar(self, word: _Word, parts: list[str], *, quoted: bool) -> None:
        text, start = self.text, self.pos
        following = text[start + 1 : start + 2]
        if following == "(":
            if text.startswith("((", start + 1):
                self.sink.trouble("an arithmetic expansion $((…))")
            self.pos += 2
            self._nested()
            self._expansion(word, parts, text[start : self.pos], quoted=quoted)
        elif following == "{":
            braced = _BRACED.match(text, start)
            if braced:
                self.pos = braced.end()
                self._expansion(word, parts, braced.group(), quoted=quoted)
            else:  # read on through it as part of the word, so that a $(…) inside is still found
                self.sink.trouble("a ${…} expansion this reader does not follow")
                self.pos += 2
                self._expansion(word, parts, "${", quoted=quoted)
        elif following == "'" and not quoted:
            self._ansi_c(word, parts)
        elif following == '"' and not quoted:
            self.pos += 1
            self._double(word, parts)
        elif following and _NAME.match(following):
            name = _NAME.match(text, start + 1)
            assert name is not None
            self.pos = name.end()
            self._expansion(word, parts, "$" + name.group(), quoted=quoted)
        elif following and following in "0123456789?$#@*!-":
            self.pos += 2
            self._expansion(word, parts, "$" + following, quoted=quoted)
        else:
            parts.append("$")
            self.pos += 1

    def _ansi_c(self, word: _Word, parts: list[str]) -> None:
        """A $'…' string: its escapes are not decoded, so a word holding one is not exact."""
        text = self.text
        stop = self.pos + 2
        while stop < self.end and text[stop] != "'":
            stop += 2 if text[stop] == "\\" else 1
        body = text[self.pos + 2 : min(stop, self.end)]
        if stop >= self.end:
            self.sink.trouble("an unclosed $' quote")
        self.pos = min(stop + 1, self.end)
        parts.append(body)
        if "\\" in body:
            word.exact = False

    def _backtick(self, word: _Word, parts: list[str], *, quoted: bool) -> None:
        """A `…` substitution: its text, unescaped once, is read as commands of its own."""
        text, start = self.text, self.pos
        inner: list[str] = []
        self.pos += 1
        while self.pos < self.end:
            plain = _BACKTICK_PLAIN.match(text, self.pos)
            if plain:
                inner.append(plain.group())
                self.pos = plain.end()
                continue
            if text[self.pos] == "`":
                break
            following = text[self.pos + 1 : self.pos + 2]
            keeps = following in ("\\", "`", "$") or (quoted and following == '"')
            inner.append(following if keeps else "\\" + following)
            self.pos += 2
        else:
            self.sink.trouble("an unclosed backtick")
        self.pos = min(self.pos + 1, self.end)
        _Scanner("".join(inner), self.sink, self.depth + 1).run()
        self._expansion(word, parts, text[start : self.pos], quoted=quoted)


class _Resolver:
    """One simple command's words made into `Simple`s: assignments, keywords and
    wrappers stripped, `bash -c` strings read in turn."""

    def __init__(self, scanner: _Scanner, writes: list[str]) -> None:
        self.scanner, self.writes = scanner, tuple(writes)
        self.trouble = scanner.sink.trouble

    def emit(self, argv: tuple[str, ...], wrappers: list[str]) -> None:
        self.scanner.sink.commands.append(Simple.of(argv, tuple(wrappers), self.writes))

    def resolve(self, words: list[_Word]) -> None:
        wrappers: list[str] = []
        i, n = 0, len(words)
        while i < n and _ASSIGNMENT.match(words[i].raw):
            wrappers.append(words[i].value)
            i += 1
        while True:
            if i >= n:
                if wrappers or self.writes:
                    self.emit((), wrappers)
                return
            word = words[i]
            if word.raw in _READ_PAST or word.raw in _KEYWORDS_THEN_COMMAND:
                if word.raw in _UNREADABLE_KEYWORDS:
                    self.trouble(f'the shell keyword "{word.raw}"')
                i += 1
                continue
            if word.raw in _KEYWORDS_NO_COMMAND:
                self.trouble(f'the shell keyword "{word.raw}"')
                if self.writes:
                    self.emit((), wrappers)
                return
            # (the words from here are made into argv only where emitted: a long run of
            # wrappers would otherwise copy the rest once per wrapper)
            problem = _name_problem(word)
            if problem:
                self.trouble(problem)
                self.emit(_values(words, i), wrappers)
                return
            base = word.value.rsplit("/", 1)[-1]
            if base in _WRAPPERS:
                after = self._options(words, i + 1, base, wrappers)
                if after is None or after >= n:  # unreadable options, or nothing wrapped: the wrapper is the command
                    self.emit(_values(words, i), wrappers)
                    return
                i = after
                continue
            if base in _SHELLS and self._shell(words, i, wrappers):
                return
            self.emit(_values(words, i), wrappers)
            if base in _EVALUATES:
                self.trouble(f'"{base}" runs commands the text does not show')
            return

    def _options(self, words: list[_Word], i: int, base: str, wrappers: list[str]) -> int | None:
        """Where the wrapped command starts, after the wrapper's own options (None when
        they cannot be read); the wrapper and the assignments it was given join `wrappers`
        only when something is wrapped."""
        spec, n, name = _WRAPPERS[base], len(words), words[i - 1].value
        given: list[str] = []
        while i < n:
            word = words[i]
            value = word.value
            if not value.startswith("-") or (value == "-" and not spec.dash):
                break
            if not word.exact:
                self.trouble(f"an option of {base} the shell expands ({word.raw})")
                return None
            i += 1
            if value == "--":
                break
            if value == "-" or (spec.numeric and value[1:].isdigit()):
                continue
            if value.startswith("--"):
                option, has_value, _ = value[2:].partition("=")
                if option in spec.long_valued and not has_value:
                    if not self._value_at(words, i, base):
                        return None
                    i += 1
                elif option not in spec.long_flags | spec.long_valued | spec.long_attached:
                    self.trouble(f"{base} {value}: an option this reader does not know")
                    return None
                continue
            for at, letter in enumerate(value[1:], start=1):
                if letter in spec.valued:
                    if at + 1 == len(value) and not self._value_at(words, i, base):
                        return None
                    i += 0 if at + 1 < len(value) else 1
                    break
                if letter in spec.attached:
                    break
                if letter not in spec.flags:
                    self.trouble(f"{base} {value}: an option this reader does not know")
                    return None
        for _ in range(spec.positional):
            if i >= n or not words[i].exact:
                self.trouble(f"{base}: a missing or expanded argument")
                return None
            i += 1
        while spec.assignments and i < n and _ASSIGNMENT.match(words[i].value) and words[i].split_safe:
            given.append(words[i].value)
            i += 1
        if i < n:
            wrappers.append(name)
            wrappers.extend(given)
        return i

    def _value_at(self, words: list[_Word], i: int, base: str) -> bool:
        """Whether an option's value, the word at `i`, is there and stays one word."""
        if i < len(words) and words[i].split_safe:
            return True
        self.trouble(f"{base}: an option whose value is missing or expanded")
        return False

    def _shell(self, words: list[_Word], i: int, wrappers: list[str]) -> bool:
        """`bash -c STRING`: the string read as commands, each wrapped by the shell.
        False when the shell runs a script or its input (a plain command)."""
        n, has_c, k = len(words), False, i + 1
        while k < n:
            value = words[k].value
            if value in ("-", "--"):
                k += 1
                break
            if value[:1] not in ("-", "+") or not words[k].exact:
                break
            k += 1
            if value.startswith("--"):
                if value[2:] in _SHELL_LONG_VALUED:
                    k += 1
                elif value[2:] not in _SHELL_LONG:
                    self.trouble(f"{words[i].value} {value}: an option this reader does not know")
                    return False
                continue
            for letter in value[1:]:
                if letter == "c":
                    has_c = True
                elif letter in "oO":
                    k += 1
                elif letter not in _SHELL_FLAGS:
                    self.trouble(f"{words[i].value} {value}: an option this reader does not know")
                    return False
        if not has_c or k >= n:
            return False
        string = words[k]
        if not string.exact:
            self.trouble(f"{words[i].value} -c with a string the shell expands")
            return False
        inner = _Sink()
        _Scanner(string.value, inner, self.scanner.depth + 1).run()
        if inner.problem:
            self.trouble(f"in {words[i].value} -c: {inner.problem}")
        if not inner.commands:
            return False
        shell = (*wrappers, words[i].value)
        commands = [replace(c, wrappers=(*shell, *c.wrappers)) for c in inner.commands]
        if self.writes:
            commands[-1] = replace(commands[-1], writes=(*commands[-1].writes, *self.writes))
        self.scanner.sink.commands.extend(commands)
        return True


def _values(words: list[_Word], start: int) -> tuple[str, ...]:
    return tuple(word.value for word in words[start:])


def _name_problem(word: _Word) -> str:
    """Why `word` cannot be read as a command's name ("" when it can)."""
    if not word.exact:
        return f"a command name the shell expands ({word.raw})"
    if word.backslash:
        return f"a backslash in a command name ({word.raw})"
    if not word.value:
        return "an empty command name"
    if _SHELL_CHARACTERS.search(word.value):  # `sudo -s 'ls; rm x'` hands its words to a shell
        return f"a command name holding spaces or shell characters ({word.raw})"
    return ""


__all__ = ["MAX_DEPTH", "Simple", "Split", "split"]

"""The permission decision (core/tools/permissions.py): deny > ask > allow > the
mode; a command decided part by part, each wrapper and each written file a part
of its own; what cannot be read asks; file patterns never reach outside the
project; an "always" answer saves the narrowest rules."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.config import ToolsConfig
from assistant.core.tools.permissions import (
    Decision,
    Permissions,
    Rule,
    describe,
    narrowest_rule,
    parse_rule,
)


def permissions(mode: str = "ask", allow: tuple[str, ...] = (), ask: tuple[str, ...] = (),
                deny: tuple[str, ...] = ()) -> Permissions:  # fmt: skip
    return Permissions.from_config(ToolsConfig(mode=mode, allow=allow, ask=ask, deny=deny))


TABLE = permissions(allow=("run: git status", "run: ls *", "run: echo *"), deny=("run: curl *",))

ALLOW, ASK, DENY = "allow", "ask", "deny"

# (command, decision, the parts that ask or are refused); git status, ls and echo allowed, curl denied.
CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("git status", ALLOW, ()),
    ("git  status", ALLOW, ()),
    ("'git' \"status\"", ALLOW, ()),
    ("git status # && rm -rf x", ALLOW, ()),
    ("ls", ALLOW, ()),
    ("ls -la src", ALLOW, ()),
    ("lsof", ASK, ("lsof",)),
    ("git status --short", ASK, ("git status --short",)),
    ("git status && rm -rf x", ASK, ("rm -rf x",)),
    ("git status || rm -rf x", ASK, ("rm -rf x",)),
    ("git status; rm x", ASK, ("rm x",)),
    ("git status | rm x", ASK, ("rm x",)),
    ("git status |& rm x", ASK, ("rm x",)),
    ("git status\nrm x", ASK, ("rm x",)),
    ("git status & rm x", ASK, ("rm x",)),
    ("echo $(rm x)", ASK, ("rm x",)),
    ("echo `rm x`", ASK, ("rm x",)),
    ('echo "$(rm x)"', ASK, ("rm x",)),
    ('echo "`rm x`"', ASK, ("rm x",)),
    ("echo $(echo $(rm x))", ASK, ("rm x",)),
    ("echo `echo \\`rm x\\``", ASK, ("rm x",)),
    ("echo '$(rm x)'", ALLOW, ()),
    ('echo "a && b"', ALLOW, ()),
    ("echo 'a; rm x' \"| rm y\"", ALLOW, ()),
    ("echo a\\;rm x", ALLOW, ()),
    ("echo {rm,x}", ALLOW, ()),
    ("bash -c 'rm x'", ASK, ("bash", "rm x")),
    ("sh -c 'git status'", ASK, ("sh",)),
    ("bash -lc 'git status && rm x'", ASK, ("bash", "rm x")),
    ("env X=1 rm x", ASK, ("env", "X=1", "rm x")),
    ("X=1 git status", ASK, ("X=1",)),
    ("git status; PATH=/tmp/evil", ASK, ("PATH=/tmp/evil",)),
    ("sudo rm x", ASK, ("sudo", "rm x")),
    ("sudo git status", ASK, ("sudo",)),
    ("sudo -u root git status", ASK, ("sudo",)),
    ("nohup git status", ASK, ("nohup",)),
    ("timeout 5 git status", ASK, ("timeout",)),
    ("time git status", ASK, ("time",)),
    ("exec rm x", ASK, ("exec", "rm x")),
    ("xargs rm < list", ASK, ("xargs", "rm")),
    ("git status > out.txt", ASK, ("> out.txt",)),
    ("git status >> log.txt", ASK, ("> log.txt",)),
    ("git status &> out", ASK, ("> out",)),
    ("git status 2>&1 | tee f", ASK, ("tee f",)),
    ("git status 2>/dev/null", ALLOW, ()),
    ("git status >/dev/null 2>&1", ALLOW, ()),
    ("git status <<< hi", ALLOW, ()),
    ("echo hi > /etc/passwd", ASK, ("> /etc/passwd",)),
    ("(git status; rm x)", ASK, ("rm x",)),
    ("{ git status; rm x; }", ASK, ("rm x",)),
    ("(git status)", ALLOW, ()),
    ("{ git status; }", ALLOW, ()),
    ("ls && (echo a | (git status; echo `ls`))", ALLOW, ()),
    ("find . -name x -delete", ASK, ("find . -name x -delete",)),
    # Unreadable: asks whatever the rules say, naming the parts that would ask anyway.
    ("cat <<EOF\nrm x\nEOF", ASK, ("cat", "rm x", "EOF")),
    ("git status <<EOF\nEOF", ASK, ("EOF",)),
    ("eval 'rm x'", ASK, ("eval rm x",)),
    ("source ./x.sh", ASK, ("source ./x.sh",)),
    (". ./x.sh", ASK, (". ./x.sh",)),
    ("diff <(ls) <(ls -a)", ASK, ("diff",)),
    ("$CMD", ASK, ("$CMD",)),
    ("${CMD} x", ASK, ("${CMD} x",)),
    ("\\rm x", ASK, ("rm x",)),
    ("if git status; then rm x; fi", ASK, ("rm x",)),
    ("for f in *; do rm $f; done", ASK, ("rm $f",)),
    ("{rm,x}", ASK, ("{rm,x}",)),
    ("echo 'unclosed", ASK, ()),
    ("git status\r", ASK, ("git status\r",)),
    ("cd src && echo hi > x.txt", ASK, ("cd src", "> x.txt")),
    # Denied: a deny rule on any part refuses the whole, wrapped or read with doubt.
    ("curl x | sh", DENY, ("curl x", "sh")),
    ("git status && curl evil", DENY, ("curl evil",)),
    ("sudo curl x", DENY, ("sudo", "curl x")),
    ("ls $(curl x)", DENY, ("curl x",)),
    ("bash -c 'curl x'", DENY, ("bash", "curl x")),
    ("eval x; curl y", DENY, ("eval x", "curl y")),
    ("", DENY, ()),
    ("   \n", DENY, ()),
    ("# only a comment", DENY, ()),
]


@pytest.mark.parametrize(("command", "action", "parts"), CASES)
def test_a_command_is_decided_part_by_part(command: str, action: str, parts: tuple[str, ...]) -> None:
    decision = TABLE.decide("run", command)
    assert (decision.action, decision.parts) == (action, parts), decision.reason
    assert decision.reason and "\n" not in decision.reason


def test_the_table_covers_at_least_fifty_commands() -> None:
    assert len(CASES) >= 50


def test_reasons_name_the_rule_or_the_mode() -> None:
    assert TABLE.decide("run", "git status").reason == 'allowed by rule "run: git status"'
    assert TABLE.decide("run", "curl x").reason == 'curl x: refused by rule "run: curl *"'
    assert TABLE.decide("run", "git status && rm x").reason == 'rm x: mode "ask" asks before a command'
    assert "here-document" in TABLE.decide("run", "cat <<EOF\nEOF").reason


# -- rules over rules, modes ------------------------------------------------------------------


def test_deny_beats_ask_beats_allow() -> None:
    both = permissions(allow=("run: rm *", "edit"), deny=("run: rm -rf *",), ask=("edit: secrets/**",))
    assert both.decide("run", "rm x").action == ALLOW
    assert both.decide("run", "rm -rf x").action == DENY
    assert both.decide("edit", "src/a.py").action == ALLOW
    assert both.decide("edit", "secrets/key").action == ASK
    everything = permissions(mode="auto", deny=("*",))
    assert everything.decide("read", "a.py").action == DENY


def test_deny_and_ask_rules_also_see_the_command_with_its_wrappers() -> None:
    rules = permissions(allow=("run: sudo", "run: rm *"), deny=("run: sudo rm *",))
    assert rules.decide("run", "sudo rm x").action == DENY
    assert rules.decide("run", "rm x").action == ALLOW
    assert rules.decide("run", "sudo ls").parts == ("ls",)


def test_a_wrapper_is_never_granted_by_a_rule_for_the_wrapped_command() -> None:
    rules = permissions(allow=("run: rm *",))
    assert rules.decide("run", "sudo rm x").parts == ("sudo",)
    assert permissions(allow=("run: rm *", "run: sudo")).decide("run", "sudo rm x").action == ALLOW


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("ask", {"read": ALLOW, "list": ALLOW, "grep": ALLOW, "edit": ASK, "write": ASK, "run": ASK}),
        ("edits", {"read": ALLOW, "list": ALLOW, "grep": ALLOW, "edit": ALLOW, "write": ALLOW, "run": ASK}),
        ("read-only", {"read": ALLOW, "list": ALLOW, "grep": ALLOW, "edit": DENY, "write": DENY, "run": DENY}),
        ("auto", {"read": ALLOW, "list": ALLOW, "grep": ALLOW, "edit": ALLOW, "write": ALLOW, "run": ALLOW}),
    ],
)
def test_what_each_mode_does_unasked(mode: str, expected: dict[str, str]) -> None:
    modal = permissions(mode=mode)
    subjects = {"run": "make test"}
    got = {tool: modal.decide(tool, subjects.get(tool, "src/a.py")).action for tool in expected}
    assert got == expected
    assert f'mode "{mode}"' in modal.decide("edit", "a.py").reason


def test_a_write_through_a_redirection_follows_the_mode_for_edits() -> None:
    allowed = ("run: make *",)
    assert permissions("ask", allowed).decide("run", "make > log").action == ASK
    assert permissions("edits", allowed).decide("run", "make > log").action == ALLOW
    assert permissions("read-only", allowed).decide("run", "make > log").action == DENY
    assert permissions("read-only", allowed).decide("run", "make").action == ALLOW


def test_an_unreadable_command_asks_even_when_everything_is_allowed() -> None:
    assert permissions(mode="auto").decide("run", "eval x").action == ASK
    assert permissions(allow=("run",)).decide("run", "cat <<EOF\nx\nEOF").action == ASK
    assert permissions(allow=("run",)).decide("run", "make test").action == ALLOW


def test_an_unknown_tool_is_refused_not_raised() -> None:
    assert TABLE.decide("fly", "x").action == DENY
    assert TABLE.decide("Read", "a.py").action == ALLOW


# -- file patterns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("src/a/b.py", ALLOW),
        ("src/a.py", ALLOW),
        ("./src/a.py", ALLOW),
        ("src//a.py", ALLOW),
        ("srcx/a.py", ASK),
        ("../src/a.py", ASK),
        ("src/../../src/a.py", ASK),
        ("src/../other.py", ASK),
        ("/src/a.py", ASK),
        ("~/src/a.py", ASK),
        ("src", ASK),
        ("", ASK),
    ],
)
def test_a_path_pattern_reaches_its_folder_and_nothing_outside(path: str, action: str) -> None:
    assert permissions(allow=("edit: src/**",)).decide("edit", path).action == action


def test_path_globs_match_by_segment() -> None:
    rules = permissions(allow=("edit: *.py", "edit: docs/**/*.md"), deny=("read: .env", "read: secrets/**"))
    assert rules.decide("edit", "a.py").action == ALLOW
    assert rules.decide("edit", "pkg/a.py").action == ASK  # `*` stays within one name
    assert rules.decide("edit", "docs/a/b/c.md").action == ALLOW
    assert rules.decide("read", ".env").action == DENY
    assert rules.decide("read", "secrets/a/b").action == DENY
    assert rules.decide("read", "src/.env").action == ALLOW


def test_outside_the_project_asks_whatever_allows_it_and_deny_still_refuses() -> None:
    assert permissions(allow=("read",)).decide("read", "/etc/passwd").action == ASK
    assert permissions(mode="edits").decide("edit", "../x").action == ASK
    assert permissions(deny=("read",)).decide("read", "/etc/passwd").action == DENY
    assert permissions(mode="auto").decide("read", "/etc/passwd").action == ALLOW


def test_git_internals_ask_even_when_edits_are_free() -> None:
    edits = permissions(mode="edits")
    assert edits.decide("edit", ".git/hooks/pre-commit").action == ASK
    assert edits.decide("run", "echo x > .git/hooks/pre-commit").action == ASK
    assert edits.decide("edit", ".github/x.yml").action == ALLOW
    assert edits.decide("write", "vendor/lib/.git/config").action == ASK
    assert permissions(mode="edits", allow=("edit: .git/info/**",)).decide("edit", ".git/info/x").action == ALLOW


def test_a_whole_project_search_is_matched_only_by_rules_without_a_pattern() -> None:
    assert permissions(deny=("grep: secrets/**",)).decide("grep", "").action == ALLOW
    assert permissions(deny=("grep",)).decide("grep", "").action == DENY


# -- command patterns -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "command", "allowed"),
    [
        ("pytest *", "pytest", True),
        ("pytest *", "pytest -x tests", True),
        ("pytest *", "pytestx", False),
        ("pytest *", "python -m pytest", False),
        ("git status", "git status", True),
        ("git status", "git status -s", False),
        ("git * --dry-run", "git push --dry-run", True),
        ("git * --dry-run", "git push --force", False),
        ("*", "anything at all", True),
        ("npm run *:test", "npm run unit:test", True),
        ("npm run *:test", "npm run unit:lint", False),
        ("ls \\*", "ls *", True),
        ("ls \\*", "ls a", False),
        ("make * check", "make check", False),
    ],
)
def test_run_patterns(pattern: str, command: str, allowed: bool) -> None:
    decision = permissions(allow=(f"run: {pattern}",)).decide("run", command)
    assert (decision.action == ALLOW) is allowed


def test_a_pattern_against_a_long_command_takes_steps_in_proportion() -> None:
    long = "echo " + "a" * 100_000
    assert permissions(allow=("run: echo *a*a*a*a*a*b",)).decide("run", long).action == ASK
    assert permissions(allow=("run: echo *a*a*a*a*a",)).decide("run", long).action == ALLOW


def test_a_100_kb_command_is_decided() -> None:
    assert TABLE.decide("run", "git status && " * 7_000 + "rm x").parts == ("rm x",)
    assert TABLE.decide("run", "$(" * 50_000).action == ASK


# -- rules as text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("run: git status", Rule("allow", "run", "git status")),
        ("  Run :  git   status ", Rule("allow", "run", "git status")),
        ("edit: ./src/**", Rule("allow", "edit", "src/**")),
        ("READ", Rule("allow", "read", "")),
        ("*", Rule("allow", "*", "")),
    ],
)
def test_a_rule_parses_and_describes_back(text: str, rule: Rule) -> None:
    assert parse_rule(text, "allow") == rule
    assert parse_rule(describe(rule), "allow") == rule


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty rule"),
        ("bash: ls", 'unknown tool "bash"'),
        ("Write(x)", "unknown tool"),
        ("run:", "empty pattern"),
        ("run:   ", "empty pattern"),
        ("*: src/**", "takes no pattern"),
        ("edit: /etc/**", "relative"),
        ("edit: ../x", "leave the project"),
        ("edit: ./", "empty path pattern"),
    ],
)
def test_a_bad_rule_is_one_clear_line(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        parse_rule(text, "allow")
    assert "\n" not in str(caught.value)


def test_a_bad_rule_in_the_config_names_its_list() -> None:
    with pytest.raises(ValueError, match=r"^tools\.deny: rule \"fly\": unknown tool"):
        Permissions.from_config(ToolsConfig(deny=("fly",)))
    with pytest.raises(ValueError, match=r"^--allow: "):
        Permissions.from_config(ToolsConfig(), ("run:",))
    with pytest.raises(ValueError, match="unknown rule action"):
        parse_rule("run", "maybe")


def test_extra_allow_rules_and_allowing_add_allow_rules() -> None:
    base = Permissions.from_config(ToolsConfig(allow=("read",)), ("run: make *",))
    assert base.decide("run", "make test").action == ALLOW
    more = base.allowing(("run: git status", "run: make *"))
    assert more.decide("run", "git status").action == ALLOW
    assert len(more.rules) == len(base.rules) + 1
    assert base.decide("run", "git status").action == ASK


# -- what an "always" answer saves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "rules"),
    [
        ("git status", ("run: git status",)),
        ("git log -5", ("run: git log *",)),
        ("pytest -x tests", ("run: pytest *",)),
        ("pytest", ("run: pytest",)),
        ("python -m pytest -q", ("run: python -m pytest *",)),
        ("python -c 'print(1)'", ("run: python -c print(1)",)),
        ("rm -rf x", ("run: rm -rf x",)),
        ("git push origin main", ("run: git push origin main",)),
        ("git -C x status", ("run: git -C x status",)),
        ("curl -s https://x", ("run: curl -s https://x",)),
        ("sudo make install", ("run: sudo", "run: make install")),
        ("env X=1 make", ("run: env", "run: X=1", "run: make")),
        ("make > out.txt", ("run: make", "edit: out.txt")),
        ("ls *.py", ("run: ls *",)),
        ("rm *.py", ("run: rm \\*.py",)),
        ('rm "a b"', ()),  # joined it reads as `rm a b`: no rule covers it alone
        ("make test && rm x", ("run: make test", "run: rm x")),
        ("eval x", ()),
        ("cd x && make > y", ()),
    ],
)
def test_the_narrowest_rules_for_each_part(command: str, rules: tuple[str, ...]) -> None:
    assert narrowest_rule("run", command) == rules
    for text in rules:  # each saved rule parses, and allows what it was saved for
        parse_rule(text, "allow")
    if rules and command != 'rm "a b"':
        assert permissions(allow=rules).decide("run", command).action == ALLOW


def test_an_exact_rule_for_a_literal_star_does_not_grant_the_wildcard() -> None:
    saved = permissions(allow=narrowest_rule("run", "rm *.py"))
    assert saved.decide("run", "rm *.py").action == ALLOW
    assert saved.decide("run", "rm -rf /").action == ASK


def test_with_permissions_only_the_parts_that_asked_are_saved() -> None:
    assert TABLE.narrowest_rule("run", "git status && make test") == ("run: make test",)
    assert narrowest_rule("run", "git status && make test", TABLE) == ("run: make test",)
    assert TABLE.narrowest_rule("run", "git status") == ()  # allowed: nothing to save
    assert TABLE.narrowest_rule("run", "make; curl x") == ()  # refused
    asking = permissions(ask=("run: git push *",))
    assert asking.narrowest_rule("run", "git push") == ()  # an ask rule is over any allow rule


def test_the_narrowest_rule_for_a_file_is_its_exact_path() -> None:
    assert narrowest_rule("edit", "./src/a.py") == ("edit: src/a.py",)
    assert narrowest_rule("edit", "src/[x]*.py") == ("edit: src/[[]x][*].py",)
    assert narrowest_rule("read", "../x") == ()
    assert narrowest_rule("grep", "") == ()
    saved = permissions(allow=narrowest_rule("edit", "src/[x]*.py"))
    assert saved.decide("edit", "src/[x]*.py").action == ALLOW
    assert saved.decide("edit", "src/x1.py").action == ASK
    assert TABLE.narrowest_rule("edit", "src/a.py") == ("edit: src/a.py",)
    assert permissions(mode="edits").narrowest_rule("edit", "src/a.py") == ()


# -- generated commands ----------------------------------------------------------------------------

PROGRAMS = ("ls", "rm", "git", "curl", "cat", "make")
WRAPPERS = {
    "sudo": "sudo", "sudo -u root": "sudo", "env": "env", "env -i X=1": "env", "nohup": "nohup", "time": "time",
    "nice -n 5": "nice", "timeout 5": "timeout", "command": "command", "stdbuf -oL": "stdbuf", "xargs": "xargs",
    "xargs -n1": "xargs", "exec": "exec",
}  # fmt: skip
OPERATORS = ("&&", "||", ";", "|", "|&", "&", "\n")


@dataclass(frozen=True)
class Generated:
    text: str
    programs: frozenset[str]  # every program it could run, wrappers and shells included
    plain: bool  # only programs, arguments and operators: nothing that should ask by itself


ARGUMENT = st.one_of(
    st.text(alphabet=" ;&|()<>$`'\"\\\n*?{},=#~!abc-", max_size=6).map(shlex.quote),
    st.from_regex(r"[a-z0-9._/-]{1,5}", fullmatch=True),
    st.sampled_from(PROGRAMS),
)


@st.composite
def simple(draw: st.DrawFn) -> Generated:
    program = draw(st.sampled_from(PROGRAMS))
    written = draw(st.sampled_from((program, f"'{program}'", f'"{program}"')))
    arguments = draw(st.lists(ARGUMENT, max_size=3))
    return Generated(" ".join((written, *arguments)), frozenset({program}), True)


def joined(children: st.SearchStrategy[Generated]) -> st.SearchStrategy[Generated]:
    return st.tuples(children, st.sampled_from(OPERATORS), children).map(
        lambda t: Generated(f"{t[0].text} {t[1]} {t[2].text}", t[0].programs | t[2].programs, t[0].plain and t[2].plain)
    )


def grouped(children: st.SearchStrategy[Generated]) -> st.SearchStrategy[Generated]:
    return st.tuples(children, st.booleans()).map(
        lambda t: Generated(f"( {t[0].text} )" if t[1] else f"{{ {t[0].text}; }}", t[0].programs, t[0].plain)
    )


def wrapped(children: st.SearchStrategy[Generated]) -> st.SearchStrategy[Generated]:
    def wrap(t: tuple[str, Generated]) -> Generated:
        return Generated(f"{t[0]} {t[1].text}", t[1].programs | {WRAPPERS[t[0]]}, False)

    def shell(t: tuple[str, Generated]) -> Generated:
        return Generated(f"{t[0]} -c {shlex.quote(t[1].text)}", t[1].programs | {t[0]}, False)

    return st.one_of(
        st.tuples(st.sampled_from(sorted(WRAPPERS)), children).map(wrap),
        st.tuples(st.sampled_from(("bash", "sh", "zsh")), children).map(shell),
        st.tuples(st.sampled_from(("X=1", "A=1 B=2")), children).map(
            lambda t: Generated(f"{t[0]} {t[1].text}", t[1].programs, False)
        ),
    )


def substituted(children: st.SearchStrategy[Generated]) -> st.SearchStrategy[Generated]:
    def substitute(t: tuple[str, Generated, str]) -> Generated:
        program, inner, form = t
        if form == "`" and ("`" in inner.text or "\\" in inner.text):
            form = "$("
        argument = {"$(": f"$({inner.text} )", '"$(': f'"$({inner.text} )"', "`": f"`{inner.text}`"}[form]
        return Generated(f"{program} {argument}", inner.programs | {program}, False)

    return st.tuples(st.sampled_from(PROGRAMS), children, st.sampled_from(("$(", '"$(', "`"))).map(substitute)


def redirected(children: st.SearchStrategy[Generated]) -> st.SearchStrategy[Generated]:
    return st.tuples(children, st.sampled_from((" > out.txt", " 2>&1", " >/dev/null", " < in.txt"))).map(
        lambda t: Generated(t[0].text + t[1], t[0].programs, t[0].plain and t[1] != " > out.txt")
    )


COMMANDS = st.recursive(
    simple(),
    lambda children: st.one_of(
        joined(children), grouped(children), wrapped(children), substituted(children), redirected(children)
    ),
    max_leaves=8,
)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(PROGRAMS), COMMANDS)
def test_a_rule_for_one_program_allows_only_commands_that_run_nothing_else(program: str, command: Generated) -> None:
    decision = permissions(allow=(f"run: {program} *",)).decide("run", command.text)
    if decision.action == ALLOW:
        assert command.programs == {program}, command.text
    if command.plain and command.programs == {program}:
        assert decision.action == ALLOW, (command.text, decision.reason)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(("read", "edit", "run", "grep")))
def test_any_subject_gets_a_decision(subject: str, tool: str) -> None:
    decision = TABLE.decide(tool, subject)
    assert isinstance(decision, Decision)
    assert decision.action in (ALLOW, ASK, DENY)
    assert "\n" not in decision.reason
    narrowest_rule(tool, subject)

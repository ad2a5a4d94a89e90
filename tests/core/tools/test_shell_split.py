"""A command split into every command it runs (core/tools/shell.py): through
operators, subshells, groups, substitutions, `bash -c` and wrappers; writes from
redirections; doubt said, never guessed; and any text at all read without an
exception, 100 KB of it included."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.tools.shell import MAX_DEPTH, Simple, Split, split


def texts(command: str) -> list[str]:
    return [simple.text for simple in split(command).commands]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("git status", ["git status"]),
        ("git status && rm -rf x", ["git status", "rm -rf x"]),
        ("a || b; c | d |& e & f", ["a", "b", "c", "d", "e", "f"]),
        ("a\nb\n\nc", ["a", "b", "c"]),
        ("a;b&&c", ["a", "b", "c"]),
        ("(a; (b)) && { c; }", ["a", "b", "c"]),
        ("echo $(rm x)", ["rm x", "echo $(rm x)"]),
        ('echo "$(rm x) and `ls y`"', ["rm x", "ls y", "echo $(rm x) and `ls y`"]),
        ("echo $(echo $(rm x))", ["rm x", "echo $(rm x)", "echo $(echo $(rm x))"]),
        ("echo `echo \\`rm x\\``", ["rm x", "echo `rm x`", "echo `echo \\`rm x\\``"]),
        ("echo '$(rm x)' 'a && b'", ["echo $(rm x) a && b"]),
        ('echo "a && b"', ["echo a && b"]),
        ("echo a\\;rm x", ["echo a;rm x"]),
        ("'git' \"status\"", ["git status"]),
        ("git   status\t--short", ["git status --short"]),
        ("git status # && rm -rf x", ["git status"]),
        ("echo a#b", ["echo a#b"]),
        ("echo a \\\n  b", ["echo a b"]),
        ("bash -c 'rm x; ls'", ["rm x", "ls"]),
        ('sh -ec "git status && rm -rf x" name arg', ["git status", "rm -rf x"]),
        ("bash script.sh", ["bash script.sh"]),
        ("bash -c \"bash -c 'rm x'\"", ["rm x"]),
        ("echo ${HOME} $PATH", ["echo ${HOME} $PATH"]),
    ],
)
def test_every_command_is_found(command: str, expected: list[str]) -> None:
    assert texts(command) == expected


@pytest.mark.parametrize(
    ("command", "argv", "wrappers"),
    [
        ("sudo rm x", ("rm", "x"), ("sudo",)),
        ("sudo -u root -E rm x", ("rm", "x"), ("sudo",)),
        ("/usr/bin/sudo rm x", ("rm", "x"), ("/usr/bin/sudo",)),
        ("env X=1 rm x", ("rm", "x"), ("env", "X=1")),
        ("env -i -u HOME A=1 B=2 rm x", ("rm", "x"), ("env", "A=1", "B=2")),
        ("X=1 Y='a b' rm x", ("rm", "x"), ("X=1", "Y=a b")),
        ("nohup nice -n 5 timeout -s KILL 10 rm x", ("rm", "x"), ("nohup", "nice", "timeout")),
        ("time -p stdbuf -oL command exec rm x", ("rm", "x"), ("time", "stdbuf", "command", "exec")),
        ("nice -10 rm x", ("rm", "x"), ("nice",)),
        ("xargs -0 -n 1 -I{} rm {}", ("rm", "{}"), ("xargs",)),
        ("sudo bash -c 'rm x'", ("rm", "x"), ("sudo", "bash")),
        ("xargs sh -c 'rm \"$1\"' _", ("rm", "$1"), ("xargs", "sh")),
        ("sudo -i", ("sudo", "-i"), ()),  # nothing wrapped: the wrapper is the command
        ("env", ("env",), ()),
    ],
)
def test_wrappers_are_stripped_and_kept(command: str, argv: tuple[str, ...], wrappers: tuple[str, ...]) -> None:
    found = split(command)
    assert found.unreadable == ""
    assert [(s.argv, s.wrappers) for s in found.commands] == [(argv, wrappers)]


@pytest.mark.parametrize(
    ("command", "writes"),
    [
        ("git status > out.txt", ("out.txt",)),
        ("a >> log 2> err", ("log", "err")),
        ("a &> both >| clobber", ("both", "clobber")),
        ("a &>> more", ("more",)),
        ("a >&file", ("file",)),
        ("a 2>&1 >&2 3>&- 4>&3- >/dev/null 2>/dev/null", ()),
        ("a < in <<< word <&3", ()),
        ("a 3<> both", ("both",)),
        ("> truncated", ("truncated",)),
        ('a > "name with space"', ("name with space",)),
        ("{ a; } > grouped", ("grouped",)),
    ],
)
def test_writes_are_the_files_redirections_write(command: str, writes: tuple[str, ...]) -> None:
    found = split(command)
    assert found.unreadable == ""
    assert tuple(path for simple in found.commands for path in simple.writes) == writes


def test_a_bare_assignment_is_a_part_with_no_program() -> None:
    assert split("PATH=/tmp/evil").commands == (Simple.of((), ("PATH=/tmp/evil",)),)


def test_a_redirect_of_a_bash_c_string_goes_to_its_last_command() -> None:
    found = split("bash -c 'a; b' > out")
    assert [(s.text, s.wrappers, s.writes) for s in found.commands] == [
        ("a", ("bash",), ()),
        ("b", ("bash",), ("out",)),
    ]


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("cat <<EOF\nrm x\nEOF", "here-document"),
        ("eval 'rm x'", "eval"),
        ("source x.sh", "source"),
        (". x.sh", '"."'),
        ("diff <(ls) >(cat)", "process substitution"),
        ("f() { rm x; }", "function"),
        ("function f { rm x; }", "function"),
        ("if true; then rm x; fi", '"if"'),
        ("for f in *; do rm $f; done", '"for"'),
        ("while true; do rm x; done", '"while"'),
        ("case $x in a) rm x;; esac", "case"),
        ("$CMD x", "command name"),
        ("${CMD} x", "command name"),
        ("$(which rm) x", "command name"),
        ("`which rm` x", "command name"),
        ("{rm,-rf,x}", "command name"),
        ("r* x", "command name"),
        ("~/bin/tool", "command name"),
        ("\\rm x", "backslash"),
        ("sudo -s 'ls; rm x'", "shell characters"),
        ("'rm x' y", "spaces"),
        ("$'\\x72m' x", "command name"),
        ("echo 'unclosed", "unclosed"),
        ('echo "unclosed', "unclosed"),
        ("echo `unclosed", "unclosed"),
        ("echo $(unclosed", "unclosed"),
        ("echo )", "unmatched"),
        ("git status\r rm -rf x", "control"),
        ("git status\u202e", "control"),
        ("echo \x00", "control"),
        ("echo $((1 + $(rm x)))", "arithmetic"),
        ("echo ${x:-$(rm y)}", "${"),
        ("a > $FILE", "expands"),
        ("a >", "without a target"),
        ("env -S 'rm x'", "env -S"),
        ("sudo -e /etc/passwd", "sudo -e"),
        ('bash -c "$X"', "expands"),
        ("env $X rm", "command name"),
        ("sudo -u $U rm x", "expanded"),
        ("[[ -f x ]] && rm x", "[["),
        ("alias ls=rm; ls x", "alias"),
    ],
)
def test_what_cannot_be_read_with_certainty_is_said(command: str, why: str) -> None:
    found = split(command)
    assert why in found.unreadable
    assert "\n" not in found.unreadable


def test_the_commands_of_an_unreadable_text_are_still_found() -> None:
    assert "rm x" in texts("if true; then rm x; fi")
    assert "rm x" in texts("cat <<EOF\nrm x\nEOF")
    assert "rm y" in texts("echo ${x:-$(rm y)}")
    assert "rm x" in texts("diff <(rm x) y")


def test_a_plain_variable_as_an_argument_is_fine() -> None:
    assert split('rm "$FILE" $OTHER').unreadable == ""


def test_nesting_past_the_limit_is_unreadable_not_a_recursion_error() -> None:
    deep = "echo " + "$(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5)
    assert "nested" in split(deep).unreadable
    assert "nested" in split("( " * (MAX_DEPTH + 5) + "x" + " )" * (MAX_DEPTH + 5)).unreadable
    assert split("( " * MAX_DEPTH + "x" + " )" * MAX_DEPTH).unreadable == ""


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_is_read_without_an_exception(text: str) -> None:
    found = split(text)
    assert isinstance(found, Split)
    assert "\n" not in found.unreadable
    assert len(found.unreadable) <= 160


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\n;&|()<>{}[]*?$`'\"\\#=~!,.-_abcxyz0123", max_size=200))
def test_shell_punctuation_is_read_without_an_exception(text: str) -> None:
    found = split(text)
    for simple in found.commands:
        assert simple.text == " ".join(simple.argv)


@pytest.mark.parametrize(
    "piece",
    ["$(", "`", "'", '"', "(", ")", "${", "\\", "a && ", "echo $(ls) ", "<(", "{ ", "x=$(", "bash -c '", "`\\`", "$'",
     "sudo ", "env ", "X=1 ", "nice -n 5 ", "\n", "# ", "a > b ", "${a:-", "<<E\n", "((", "\\`"],
)  # fmt: skip
def test_a_100_kb_command_is_read(piece: str) -> None:
    text = piece * (100_000 // len(piece))
    assert isinstance(split(text), Split)


def test_100_kb_of_random_shell_text_is_read() -> None:
    rng = random.Random(7)
    alphabet = [*list(" \n;&|()<>{}$`'\"\\#=*?"), "$(", "${", "bash -c ", "sudo ", "ls", "a", "b"]
    for _ in range(5):
        text = "".join(rng.choice(alphabet) for _ in range(60_000))[:100_000]
        assert isinstance(split(text), Split)

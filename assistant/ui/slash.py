"""The slash commands: one table (`SLASH_COMMANDS`, at the end) whose entries
carry their name, usage, help and handler; it feeds the prompt's completion,
/help and the command palette (palette.py). A handler acts through `ChatHost`
(host.py), never the app itself; what it asks off the UI thread is actions.py's,
refactoring.py's and rewinding.py's.

Paths in arguments (`/refactor PATH`, `/add GLOB…`, `/drop PATH…`) are read as
the CLI reads them (core/project.py): relative to where the person stands, and
refused in one line when they lead outside the project. A name with spaces is
quoted: `/refactor "docs/my notes.md" tidy`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.core import config as config_mod
from assistant.core.backends.unavailable import UnavailableBackend
from assistant.core.paths import Paths
from assistant.core.plugins import create_backend
from assistant.core.project import OutsideProject, expand_home, typed_path
from assistant.core.session.chat import AUTO
from assistant.core.session.pinned import load, path_of, pinned_matching
from assistant.core.window.counters import window_counter
from assistant.ui import actions, rewinding, screens
from assistant.ui.actions import BUSY
from assistant.ui.tasks import TASK_PREFIX
from assistant.ui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from assistant.core.window.sliding import Assembly
    from assistant.ui.host import ChatHost

MAX_PATH_CHARS = 4096  # PATH_MAX: a longer argument is not a path
MAX_PATHS = 100  # paths one /add or /drop takes
# A word of an argument: "quoted", 'quoted' (on one line), or up to the next space.
_WORD = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'|(\S+)")
_POINT = re.compile(r"[0-9]{1,9}")  # /rewind N: a point's number, never a flood to convert


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    usage: str
    run: Callable[[ChatHost, str], Awaitable[None]]  # the handler: (the app, the argument)
    help: str


PREFIX_HELP = (
    "Start a message with @claude or @local to send it there, @other to the backend that did not "
    "answer last (that answer counts as bad), @auto to let the router choose, @quality for the best "
    "answer; @edit, @code, @explain, @chat or @batch say what kind of turn it is."
)

KEYS_HELP = (
    "Enter send · Shift+Enter / Ctrl+J newline · ↑/↓ history · Tab complete /command or @path · "
    "Esc cancel the answer · Shift+Tab select an answer, then + good / − bad, ↑↓ another · "
    "Ctrl+P command palette · Ctrl+Q quit"
)


def help_text() -> str:
    width = max(len(c.usage) for c in SLASH_COMMANDS)
    lines = [f"{c.usage.ljust(width)}  {c.help}" for c in SLASH_COMMANDS]
    return "\n".join(lines + ["", PREFIX_HELP, KEYS_HELP])


async def run_slash_command(app: ChatHost, line: str) -> None:
    name, arg = (line.strip().split(maxsplit=1) + [""])[:2]
    arg = arg.strip()
    handler = HANDLERS.get(name)
    if handler is None:
        known = ", ".join(c.name for c in SLASH_COMMANDS)
        await app.add_note(f"Unknown command {_brief(name)} (commands: {known})", error=True)
        return
    await handler(app, arg)


def _brief(text: str, limit: int = 60) -> str:
    """Typed text to quote in a one-line answer: short, and on one line."""
    text = text if text.isprintable() else ascii(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def typed_words(arg: str) -> list[str]:
    """The words of an argument, a quoted one kept whole (one regex pass: linear)."""
    return [m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)
            for m in _WORD.finditer(arg)]


def project_path(app: ChatHost, typed: str) -> str:
    """A typed path as the project knows it (relative to its root), read from where
    the person stands. Raises `OutsideProject` with a one-line reason."""
    if len(typed) > MAX_PATH_CHARS:
        raise OutsideProject(f"{_brief(typed)}: too long for a path")
    try:
        return typed_path(typed, root=app.project_root)
    except OutsideProject as exc:
        raise OutsideProject(_brief(str(exc), 300)) from None
    except (ValueError, OSError) as exc:  # an unencodable name, a current folder that is gone
        raise OutsideProject(f"{_brief(typed)}: not a path here ({type(exc).__name__})") from None


async def help_command(app: ChatHost, arg: str) -> None:
    await app.add_note(help_text())


async def clear_command(app: ChatHost, arg: str) -> None:
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    app.session.clear()
    await app.query_one(Transcript).clear()
    app.notify("New conversation: the one before is kept (/sessions).")


async def model_command(app: ChatHost, arg: str) -> None:
    session = app.session
    backend = session.backend
    if not arg:
        names = ", ".join(session.backend_names()) or "none"
        mode = "auto (the router decides each turn)" if session.mode == AUTO else f"always {session.mode}"
        ctx = backend.capabilities.context_size
        await app.add_note(
            f"Mode: {mode}\nBackend: {backend.name} · model: {backend.model_name} · context {ctx:,} tokens "
            f"· {app.state}\nBackends: {names}\n"
            "Switch with /model auto, /model BACKEND, or load a GGUF file with /model PATH.gguf"
        )
        return
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    if arg == AUTO:
        session.use(AUTO)
        await app.add_note("Auto: the router chooses the backend of each turn (its reason is under each answer).")
        app.refresh_status()
        return
    if arg.endswith(".gguf") or "/" in arg:
        path = expand_home(arg)
        if len(path) > MAX_PATH_CHARS or not os.path.isfile(path):  # isfile: False for any unusable name
            await app.add_note(f"No such model file: {_brief(path, 300)}", error=True)
            return
        config = app.config.with_overrides({"backends.local.model_path": os.path.abspath(path)}, "/model")
        new = create_backend(config, "local")
    elif arg in session.backend_names():
        new = session.backend_named(arg)
    else:
        new = create_backend(app.config, arg)
    if isinstance(new, UnavailableBackend):
        await app.add_note(f"Not switched: {_brief(new.reason, 300)}", error=True)
        return
    await app.add_note(f"Loading {new.name} · {new.model_name}…")
    app.load_backend(new)


async def cost_command(app: ChatHost, arg: str) -> None:
    app.push_screen(screens.CostScreen(app.session))


async def retry_command(app: ChatHost, arg: str) -> None:
    if arg not in ("", "other"):
        await app.add_note("Usage: /retry other", error=True)
        return
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    session = app.session
    if session.last is None or not session.last.question:
        await app.add_note("Nothing to retry yet.", error=True)
        return
    if session.last.decision is not None and session.last.decision.kind == "task":  # not a question to ask again
        await app.add_note("Not retried: the last answer ended a task; /task runs one again.", error=True)
        return
    other = session.other_backend()
    if other is None:
        await app.add_note(f"No other backend can answer: only {session.last.routed_to} is available.", error=True)
        return
    await app.start_turn(session.last.question, retry_on=other)


def _rating(verdict: str):  # noqa: ANN202 - a slash command's handler
    async def rate_command(app: ChatHost, arg: str) -> None:
        if app.busy:
            app.notify(BUSY, severity="warning")
            return
        actions.rate(app, verdict)

    return rate_command


async def keep_command(app: ChatHost, arg: str) -> None:
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    actions.keep_first(app)


async def context_command(app: ChatHost, arg: str) -> None:
    session = app.session
    name = session.status().last_backend or session.backend.name
    assembly = session.window(name)
    if assembly is None:
        await app.add_note("Nothing sent yet: the window fills as you chat.")
        return
    await app.add_note(context_report(name, assembly))


def context_report(name: str, assembly: Assembly) -> str:
    """`/context`: what the last prompt to `name` held, item by item, in its tokens."""
    about = "≈" if assembly.estimated else ""
    lines = [
        f"Window of {name}: {about}{assembly.tokens:,} of {assembly.budget:,} tokens ({assembly.fill:.0%})"
        + (f" · {assembly.dropped} older turn{'s' if assembly.dropped != 1 else ''} dropped (/compact keeps a summary)"
           if assembly.dropped else ""),
    ]
    width = max((len(item.label) for item in assembly.items), default=0)
    lines += [f"  {item.label.ljust(width)}  {item.tokens:>7,}" for item in assembly.items]
    return "\n".join(lines)


async def compact_command(app: ChatHost, arg: str) -> None:
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    await app.add_note("Summarising the dropped turns with the local model…")
    actions.compact(app)


async def add_command(app: ChatHost, arg: str) -> None:
    words = typed_words(arg)
    if not words:
        await app.add_note("Usage: /add PATH… (globs allowed, e.g. src/**/*.py)", error=True)
        return
    if len(words) > MAX_PATHS:
        await app.add_note(f"Not pinned: {len(words):,} paths at once ({MAX_PATHS} at most)", error=True)
        return
    session = app.session
    patterns, outside = _project_paths(app, words)
    try:
        pinned, refused = load(app.project_root, patterns, app.config.edits.max_file_bytes)
    except (ValueError, OSError) as exc:  # a name the file system cannot take
        pinned, refused = [], [("", f"{type(exc).__name__}: {_brief(str(exc), 200)}")]
    refused = outside + refused
    for item in pinned:
        session.pin(item.path, item.message)
    lines = [f"Pinned {item.path}" for item in pinned]
    lines += [f"Not pinned: {why}" if path in why else f"Not pinned: {_brief(path)}: {why}" for path, why in refused]
    await app.add_note("\n".join(lines), error=bool(refused) and not pinned)


def _project_paths(app: ChatHost, words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(the words as project paths, (word, why refused) for those that are not)."""
    paths, refused = [], []
    for word in words:
        try:
            paths.append(project_path(app, word))
        except OutsideProject as exc:
            refused.append((word, str(exc)))
    return paths, refused


async def drop_command(app: ChatHost, arg: str) -> None:
    words = typed_words(arg)
    if not words:
        await app.add_note("Usage: /drop PATH…", error=True)
        return
    if len(words) > MAX_PATHS:
        await app.add_note(f"Nothing unpinned: {len(words):,} paths at once ({MAX_PATHS} at most)", error=True)
        return
    session = app.session
    paths, refused = _project_paths(app, words)
    lines = []
    for typed in paths:
        named = pinned_matching(session.pinned_files(), typed)
        lines += [f"Unpinned {p}" for p in named if session.unpin(p)] or [f"{_brief(typed)} was not pinned"]
    lines += [f"Not unpinned: {why}" for _, why in refused]
    await app.add_note("\n".join(lines), error=bool(refused) and not paths)


async def files_command(app: ChatHost, arg: str) -> None:
    session = app.session
    if not session.pinned:
        await app.add_note("No pinned files: /add PATH pins one into every prompt.")
        return
    backend = session.backend
    counter = window_counter(backend)
    lines = [f"Pinned files (tokens of {backend.name}):"]
    for message in session.pinned:
        lines.append(f"  {path_of(message) or 'summary'}  {counter.message_tokens(message):,}")
    await app.add_note("\n".join(lines))


async def refactor_command(app: ChatHost, arg: str) -> None:
    first = _WORD.match(arg)
    if first is None:
        await app.add_note("Usage: /refactor PATH [instruction]", error=True)
        return
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    try:
        path = project_path(app, typed_words(first.group(0))[0])
    except OutsideProject as exc:
        await app.add_note(f"Not refactored: {exc}", error=True)
        return
    instruction = arg[first.end() :].strip() or "Refactor this file for clarity without changing its behaviour."
    await app.query_one(Transcript).drop_welcome()
    await app.add_note(f"Asking for an edit of {path}: {instruction}")
    app.refactoring.start(path, instruction)


async def task_command(app: ChatHost, arg: str) -> None:
    if not arg:
        await app.add_note("Usage: /task TEXT (what the model should do in the project)", error=True)
        return
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    await app.start_turn(f"{TASK_PREFIX} {arg}")  # as `@task TEXT` typed: ui/tasks.py runs it


async def undo_command(app: ChatHost, arg: str) -> None:
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    app.refactoring.undo()


async def rewind_command(app: ChatHost, arg: str) -> None:
    if arg and not _POINT.fullmatch(arg):
        await app.add_note("Usage: /rewind [N] (N: a point of the list /rewind shows)", error=True)
        return
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    rewinding.open_rewind(app, int(arg) if arg else None)


async def redo_command(app: ChatHost, arg: str) -> None:
    if arg:
        await app.add_note("Usage: /redo (it takes back the last /rewind)", error=True)
        return
    if app.busy:
        app.notify(BUSY, severity="warning")
        return
    rewinding.redo(app)


async def report_command(app: ChatHost, arg: str) -> None:
    app.push_screen(screens.ReportScreen(app.session))


async def sessions_command(app: ChatHost, arg: str) -> None:
    def chosen(session_id: str | None) -> None:
        if session_id and session_id != app.session.session_id:
            actions.resume(app, session_id)

    app.push_screen(screens.SessionsScreen(app.session), chosen)


async def theme_command(app: ChatHost, arg: str) -> None:
    paths = Paths.resolve()
    own = app.own_themes
    textuals = sorted(name for name in app.available_themes if name not in own)
    if not arg:
        def listed(names: list[str]) -> str:
            return ", ".join(f"{name} (current)" if name == app.theme else name for name in names)

        await app.add_note(
            f"Theme: {app.theme}\nassistant's and yours: {listed(own)}\nTextual's: {listed(textuals)}\n"
            f"Switch with /theme NAME (saved in the config file); add your own as TOML files in "
            f"{paths.config_dir / 'themes'}"
        )
        return
    if arg not in app.available_themes:
        await app.add_note(f"No theme named {_brief(repr(arg))} (themes: {', '.join(own + textuals)})", error=True)
        return
    app.theme = arg
    app.config = replace(app.config, ui=replace(app.config.ui, theme=arg))
    try:
        config_mod.store_setting(paths.config_file, "ui", "theme", arg)
    except config_mod.ConfigError as exc:
        await app.add_note(f"Theme {arg} for this session only, not saved: {exc}", error=True)
        return
    await app.add_note(f"Theme: {arg} (saved in {paths.config_file})")


async def quit_command(app: ChatHost, arg: str) -> None:
    await app.action_quit()


# The one table of slash commands: the prompt's completion, /help, the palette and
# the dispatch below all read it.
SLASH_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("/help", "/help", help_command,
                 "List commands and keys."),
    SlashCommand("/clear", "/clear", clear_command,
                 "Start a new conversation, stored as a new chat (the one before stays in /sessions)."),
    SlashCommand("/model", "/model [auto | BACKEND | PATH.gguf]", model_command,
                 "Show the backend and model; let the router choose, fix a backend, or load a GGUF file."),
    SlashCommand("/retry", "/retry other", retry_command,
                 "Ask the last question again on the other backend (both kept; the first rated bad unless you /keep it)."),
    SlashCommand("/keep", "/keep", keep_command,
                 "After /retry other: go on from the first answer (rated good; the other one bad)."),
    SlashCommand("/good", "/good", _rating("good"),
                 "Rate the last answer good: what the quality router learns from."),
    SlashCommand("/bad", "/bad", _rating("bad"),
                 "Rate the last answer bad: the quality router counts it against its backend."),
    SlashCommand("/context", "/context", context_command,
                 "What the window sent last: each item and its tokens."),
    SlashCommand("/compact", "/compact", compact_command,
                 "Summarise the turns the window dropped into one pinned message."),
    SlashCommand("/add", "/add PATH…", add_command,
                 "Pin files (globs allowed) into every prompt."),
    SlashCommand("/drop", "/drop PATH…", drop_command,
                 "Unpin files."),
    SlashCommand("/files", "/files", files_command,
                 "The pinned files and their tokens."),
    SlashCommand("/refactor", "/refactor PATH [instruction]", refactor_command,
                 "Ask for an edit of a file, review the diff, apply and commit."),
    SlashCommand("/task", "/task TEXT", task_command,
                 "Let the model do it in the project, step by step: read, search, edit, run commands; a step "
                 "[tools] does not allow asks first (y, n, a always, p always in this project, e edit). "
                 "Esc stops it. Also @task TEXT."),
    SlashCommand("/undo", "/undo", undo_command,
                 "Take back the last change (the last task or applied edit) as a rewind of its files; "
                 "your own changes since are kept."),
    SlashCommand("/rewind", "/rewind [N]", rewind_command,
                 "Go back to before a turn: its files, the chat after it, or both, shown before anything is done; "
                 "your own changes since are kept unless you say otherwise."),
    SlashCommand("/redo", "/redo", redo_command,
                 "Take back the last /rewind: its files and the chat as they were."),
    SlashCommand("/sessions", "/sessions", sessions_command,
                 "Browse, search, resume, rename and delete stored chats."),
    SlashCommand("/report", "/report", report_command,
                 "Measured speed, latency, cost and capacity per backend, with a chart."),
    SlashCommand("/cost", "/cost", cost_command,
                 "What this session cost, per backend, from the ledger."),
    SlashCommand("/theme", "/theme [NAME]", theme_command,
                 "List the themes, or switch to one and save it in the config file."),
    SlashCommand("/quit", "/quit", quit_command,
                 "Leave (a running answer is cancelled first)."),
)
HANDLERS = {c.name: c.run for c in SLASH_COMMANDS}


def command_names() -> list[str]:
    """Every command's name, for the prompt's completion."""
    return [c.name for c in SLASH_COMMANDS]

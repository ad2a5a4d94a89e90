"""The first frame is drawn before the chat session is opened (issue 26): the path
`assistant` takes to it (its parser, its config, the app) loads none of the
session's modules, nor the result types; the status bar shows the mode until
the session, opened right after that frame, shows itself."""

from __future__ import annotations

import json
import subprocess
import sys

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.widgets.status import StatusBar
from tests.ui.helpers import send, wait_for

# As bench/startup.py starts the app: a fresh process, the command line's path, headless.
CHILD = """
import json, sys
from assistant.cli.parser import parse_command_line
from assistant.cli.context import start
from assistant.core.paths import Paths
from assistant.ui.app import make_app
from assistant.ui.widgets.status import StatusBar

WATCHED = ("assistant.core.session.chat", "assistant.core.session.opening", "assistant.core.session.runner",
           "assistant.core.session.attached", "assistant.core.window.sliding", "assistant.core.results",
           "assistant.core.accounting.bench_results", "assistant.ui.loading", "assistant.ui.actions", "sqlite3")

def seen(app):
    return {"loaded": [m for m in WATCHED if m in sys.modules], "bar": app.query_one(StatusBar).text().plain}

async def first_frame(pilot):
    frames = [seen(pilot.app)]
    await pilot.pause()  # what runs once the first frame is drawn
    frames.append(seen(pilot.app))
    print(json.dumps(frames), flush=True)
    pilot.app.exit()

make_app(start(Paths.resolve(), parse_command_line([])), preload=False).run(headless=True, auto_pilot=first_frame)
"""


def test_the_first_frame_waits_for_none_of_the_session_s_modules(tmp_path) -> None:
    env = {"ASSISTANT_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    first, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert first["loaded"] == []
    assert first["bar"].startswith("auto · … · not loaded")  # the mode, as the session will have it
    assert "assistant.core.session.chat" in after["loaded"]  # opened once the frame was drawn
    assert after["bar"].startswith("auto · … · not loaded")  # nothing made yet: the same line


async def test_a_session_asked_for_before_the_app_runs_is_the_one_its_turns_use() -> None:
    """`app.session` opens it on first use, whoever asks (a test, a worker, a command)."""
    backend = ScriptedBackend(["Hi."], name="scripted", model_name="tiny")
    app = make_app(Config(), backend=backend, ledger=False, preload=False)
    session = app.session
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: session.last is not None and not app.busy)
        assert app.session is session and session.backend is backend
        assert "tiny" in app.query_one(StatusBar).text().plain

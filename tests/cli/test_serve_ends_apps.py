"""`assistant serve` leaves no app behind (issue 26, item 10): an app ran on at half
a core after its tab closed and `serve` got SIGTERM, and took no SIGTERM itself.

A real `serve`, a tab played by a WebSocket client that types a question into the
app it starts; the answer stalls for ever (tests/fake_anthropic.py), so that every
ending lands in the middle of one and only the ending can stop it. The processes are
read from /proc: serve's descendants while it lives, and by pid and process group
once it has gone (an orphan is no longer its descendant)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from assistant.cli.serve_apps import GRACE_SECONDS
from tests.backends.server.conftest import free_port
from tests.cli.serve_process import answers, printed_url
from tests.cli.test_cli_input import all_turns, claude_flags
from tests.cli.test_signals import PATIENT_CLAUDE, stalled_claude
from tests.fake_anthropic import FakeAnthropic
from tests.patience import PATIENCE


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    parent: int
    group: int
    state: str


def processes() -> list[Proc]:
    """Every live process, from /proc (a zombie has ended: only its parent's wait is left)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while listed
            continue
        if fields[0] not in ("Z", "X"):
            found.append(Proc(int(entry.name), int(fields[1]), int(fields[2]), fields[0]))
    return found


def descendants(pid: int) -> list[Proc]:
    every = processes()
    found, parents = [], {pid}
    while True:
        more = [p for p in every if p.parent in parents and p not in found]
        if not more:
            return found
        found += more
        parents |= {p.pid for p in more}


def left_of(served: Served) -> list[Proc]:
    """What still lives of the apps `serve` started: the same processes, or anything in
    their process groups but `serve` itself (textual-serve started them in its own)."""
    pids, groups = {p.pid for p in served.apps}, {p.group for p in served.apps}
    return [p for p in processes() if (p.pid in pids or p.group in groups) and p.pid != served.serve.pid]


async def until(predicate: Callable[[], object], what: str, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: still not so after {timeout:.0f} s"
        await asyncio.sleep(0.05)


@dataclass
class Tab:
    """A browser tab as textual-serve's page is one: a WebSocket, what the app drew."""

    socket: aiohttp.ClientWebSocketResponse
    shown: bytearray = field(default_factory=bytearray)

    async def read(self) -> None:
        async for message in self.socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.shown += message.data

    async def type(self, text: str) -> None:
        await self.socket.send_json(["stdin", text])


@dataclass
class Served:
    serve: subprocess.Popen[str]
    tab: Tab | None
    claude: FakeAnthropic
    apps: list[Proc]  # serve's descendants once the tab's app is up

    def wedge(self) -> None:
        """Stop the app as a wedged one is stopped: it takes no "quit", and a SIGTERM
        waits for a SIGCONT that never comes; only SIGKILL ends it."""
        for app in self.apps:
            os.kill(app.pid, signal.SIGSTOP)

    def ended(self) -> bool:
        return not left_of(self)


@asynccontextmanager
async def a_tab_mid_answer(home: Path) -> AsyncIterator[Served]:
    """`serve`, a tab, and its app in the middle of an answer that stalls for ever.
    Whatever is left of it all is killed at the end, so a failing test leaves nothing."""
    with stalled_claude() as claude:
        serve = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--port", str(free_port()), "--",
             *claude_flags(claude.base_url), *PATIENT_CLAUDE],
            env={**os.environ, "ASSISTANT_HOME": str(home)},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        apps: list[Proc] = []
        tab = None
        try:
            url = printed_url(serve)
            await until(lambda: answers(url), "serve answers its printed URL")
            origin = url.split("/?")[0]
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # an IP's cookie
                async with session.get(url) as page:  # the cookie, as a browser gets it
                    assert page.status == 200
                async with session.ws_connect(f"ws{origin.removeprefix('http')}/ws?width=100&height=30",
                                              headers={"Origin": origin}) as socket:  # fmt: skip
                    tab = Tab(socket)
                    reading = asyncio.create_task(tab.read())
                    await until(lambda: b"ready" in tab.shown, "the app in the tab draws its first screen")
                    apps += descendants(serve.pid)
                    await tab.type("tell me a long story\r")
                    await until(lambda: claude.stalls, "the answer stalls, three tokens in")
                    yield Served(serve, tab, claude, apps)
                    reading.cancel()
        finally:
            for left in [serve.pid, *(p.pid for p in left_of(Served(serve, tab, claude, apps)))]:
                try:
                    os.kill(left, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            serve.wait(timeout=PATIENCE)


def the_turn_was_cancelled_and_recorded() -> None:
    [turn] = all_turns()
    assert turn.outcome == "cancelled" and turn.backend == "claude"


@pytest.mark.parametrize("wedged", [False, True], ids=["quits", "wedged"])
async def test_sigterm_to_serve_ends_every_app_it_started(assistant_home: Path, wedged: bool) -> None:
    """An app that quits when asked records its answer, cancelled; one that does not
    is ended anyway, its whole process group with it (TERM, then KILL)."""
    async with a_tab_mid_answer(assistant_home) as served:
        assert served.apps and not served.ended()
        if wedged:
            served.wedge()
        served.serve.send_signal(signal.SIGTERM)
        served.serve.wait(timeout=PATIENCE)
        await until(served.ended, "the tab's app and its process group end")
    if not wedged:
        the_turn_was_cancelled_and_recorded()


@pytest.mark.parametrize("wedged", [False, True], ids=["quits", "wedged"])
async def test_a_closed_tab_ends_its_app_while_serve_goes_on(assistant_home: Path, wedged: bool) -> None:
    async with a_tab_mid_answer(assistant_home) as served:
        if wedged:
            served.wedge()
        assert served.tab is not None
        await served.tab.socket.close()
        await until(served.ended, "the closed tab's app ends")
        assert served.serve.poll() is None
    if not wedged:
        the_turn_was_cancelled_and_recorded()


async def test_an_app_whose_server_was_killed_ends_by_itself(assistant_home: Path) -> None:
    """SIGKILL leaves `serve` no time to end anything: the app sees its stdin end, and
    its writes fail; either one quits it as Ctrl+Q does."""
    async with a_tab_mid_answer(assistant_home) as served:
        served.serve.kill()
        served.serve.wait(timeout=PATIENCE)
        await until(served.ended, "the orphaned app ends")
    the_turn_was_cancelled_and_recorded()


async def test_sigterm_to_a_served_app_quits_it_as_ctrl_q_does(assistant_home: Path) -> None:
    async with a_tab_mid_answer(assistant_home) as served:
        [app] = [p for p in served.apps if p.parent == served.serve.pid]
        os.kill(app.pid, signal.SIGTERM)
        await until(served.ended, "the app ends on SIGTERM")
        assert served.serve.poll() is None
    the_turn_was_cancelled_and_recorded()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
async def test_serve_told_twice_to_stop_kills_its_wedged_apps_at_once(assistant_home: Path, signum: int) -> None:
    """Ctrl+C twice: the second does not wait out the graces (a wedged app takes both,
    then SIGKILL): the app is killed at once, long before the first grace has passed."""
    async with a_tab_mid_answer(assistant_home) as served:
        served.wedge()
        served.serve.send_signal(signum)
        await asyncio.sleep(0.5)  # serve is ending its apps
        served.serve.send_signal(signum)
        await until(served.ended, "every app ends", timeout=1.5 * GRACE_SECONDS)  # else 2 x GRACE_SECONDS
        served.serve.wait(timeout=PATIENCE)

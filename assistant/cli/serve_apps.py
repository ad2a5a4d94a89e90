"""The server's side of each app `assistant serve` starts: one per tab, ended with it.

textual-serve starts an app through `/bin/sh -c` in `serve`'s own process group,
ends it only by asking ("quit") and waiting for ever, and on SIGTERM stops waiting:
an app that did not quit, and anything an app had started, ran on. Here each app is
started without a shell as the leader of its own process group (`start_new_session`),
and ending it, when its tab closes or `serve` stops, is bounded: "quit" (the app
quits as Ctrl+Q does, serve_driver), then SIGTERM to the whole group, then SIGKILL.
The group gets TERM even when the app has left on its own: what it left behind goes
with it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from collections.abc import Awaitable

from textual_serve.app_service import AppService

from assistant.cli.serve_driver import SERVED_DRIVER

# How long an app asked to quit has to record its answer and leave before its group
# gets SIGTERM, and how long the group then has before SIGKILL.
GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.05


class ServedApp(AppService):
    """One tab's app process, in its own process group, ended within bounded time."""

    _ending: asyncio.Future[None] | None = None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width=width, height=height), "TEXTUAL_DRIVER": SERVED_DRIVER}

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height), start_new_session=True,
        )  # fmt: skip
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        """End the app and its group. Called by the tab's handler and by `serve`'s
        shutdown, maybe both at once: each caller waits for the one ending."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)

    def kill(self) -> None:
        """SIGKILL to the app's group at once: `serve` was told twice to stop."""
        if self._process is not None:
            _signal_group(self._process.pid, signal.SIGKILL)

    async def _end(self) -> None:
        process, reader = self._process, self._task
        if process is None:  # it never started
            return
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        await self.send_meta({"type": "quit"})
        await _end_group(process, GRACE_SECONDS)
        if reader is not None:  # its output ends with the group, unless something that escaped holds it
            await _within(reader, GRACE_SECONDS)
        self._task = None


async def _end_group(process: asyncio.subprocess.Process, grace: float) -> None:
    """`process` has `grace` seconds to leave, then its group gets SIGTERM and as long
    again, then SIGKILL. The leader of the group is `process` (start_new_session)."""
    group = process.pid
    await _within(process.wait(), grace)
    _signal_group(group, signal.SIGTERM)
    if not await _group_ends(process, grace):
        _signal_group(group, signal.SIGKILL)
    await process.wait()


async def _group_ends(process: asyncio.subprocess.Process, grace: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    await _within(process.wait(), grace)  # the leader first: unreaped, it keeps its group alive
    while _group_alive(process.pid):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(_POLL_SECONDS)
    return True


async def _within(awaitable: Awaitable[object], seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(awaitable, seconds)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed its user: it lives, and is not ours to end
        return False
    return True


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already, or not ours
        os.killpg(group, signum)

"""The process between the app and a sandboxed command (see sandbox.py): it sets
the limits, starts the command, and ends every process the command started.

It is run as a script, `python -I -S sandbox_supervisor.py SETTINGS ARGV...`, so it
imports only the standard library and starts in milliseconds. SETTINGS is JSON:
`parent` (the app's pid), `grace` (seconds between SIGTERM and SIGKILL) and the
limits (`cpu`, `data`, `fsize`, `nproc`: each a number or null for "as it is").

On Linux it is a child subreaper: a descendant whose parent dies is re-parented to
it, not to init, so `setsid`, double forks and daemons all stay in its process
tree, which it lists from /proc. It ends that tree when the command exits (what a
test left running), on SIGTERM (the app's timeout or cancel) and when the app
dies (PR_SET_PDEATHSIG): SIGTERM to every descendant, `grace` seconds, then
SIGKILL until /proc lists none. It exits with the command's status (128+N for a
signal N, as shells do); 127 with one line when the command cannot be started.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Python ignores these; an ignored signal stays ignored across exec, so the command gets them back.
RESTORED = (signal.SIGPIPE, signal.SIGXFSZ)
KILL_ROUNDS = 1000  # each round kills every descendant listed; a fork bomb has nothing left after a few
PROC = "/proc"


class Stop(Exception):
    """SIGTERM, SIGINT or SIGHUP came: the app's timeout or cancel, or the app died."""


def main(argv: list[str]) -> int:
    settings, command = json.loads(argv[1]), argv[2:]
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)  # held until the command runs and can be ended
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = getattr(libc, "prctl", None)
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if os.getppid() != settings["parent"]:  # the app died before PR_SET_PDEATHSIG took hold
        return 128 + signal.SIGTERM
    try:
        _limit(settings)
    except (OSError, ValueError) as exc:
        print(f"sandbox: cannot set the limits ({exc})", flush=True)
        return 127
    try:
        child = os.posix_spawnp(command[0], command, os.environ, setpgroup=0, setsigmask=(), setsigdef=RESTORED)
    except OSError as exc:
        print(f"{command[0]}: {exc.strerror or exc}", flush=True)
        return 127
    code = _wait(child)
    for signum in STOPS:  # a second SIGTERM must not cut the ending short
        signal.signal(signum, signal.SIG_IGN)
    _end_tree(child, settings["grace"])
    return 128 + signal.SIGTERM if code is None else code


def _limit(settings: dict[str, float | None]) -> None:
    """Lower soft and hard limits alike (a limit the command could raise back would be
    none), and never above what the user's own limits already are."""
    cpu = settings["cpu"]
    nproc = settings["nproc"]
    wanted = {
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_CPU: None if cpu is None else (int(cpu), int(cpu) + 5),  # SIGXCPU, then SIGKILL
        resource.RLIMIT_DATA: None if settings["data"] is None else (int(settings["data"]),) * 2,
        resource.RLIMIT_FSIZE: None if settings["fsize"] is None else (int(settings["fsize"]),) * 2,
        # Counted per user, threads included, against every process the user runs.
        resource.RLIMIT_NPROC: None if nproc is None or (tasks := _user_tasks()) is None else (tasks + int(nproc),) * 2,
    }
    for which, pair in wanted.items():
        if pair is None:
            continue
        soft, hard = resource.getrlimit(which)
        new_hard = pair[1] if hard == resource.RLIM_INFINITY else min(pair[1], hard)
        new_soft = min(pair[0], new_hard) if soft == resource.RLIM_INFINITY else min(pair[0], soft, new_hard)
        resource.setrlimit(which, (new_soft, new_hard))


def _user_tasks() -> int | None:
    """Tasks (threads included) of this user, as RLIMIT_NPROC counts them; None
    without /proc to count them in (the limit is then left as it is)."""
    uid, count = os.getuid(), 0
    try:
        names = os.listdir(PROC)
    except OSError:
        return None
    for name in names:
        if name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"{PROC}/{name}").st_uid == uid:
                    count += len(os.listdir(f"{PROC}/{name}/task"))
    return count


def _wait(child: int) -> int | None:
    """The command's exit status, or None when told to stop first. Orphans that
    come up here are reaped on the way."""
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        if not stopping:  # once: the ending that follows is not to be interrupted
            stopping.append(signum)
            raise Stop

    for signum in STOPS:
        signal.signal(signum, stop)
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)  # one that came meanwhile is raised here
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == child:
                code = os.waitstatus_to_exitcode(status)
                return 128 - code if code < 0 else code
    except Stop:
        return None


def _reap() -> list[tuple[int, int]]:
    """Every child that has ended (an orphan re-parented here included)."""
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, status))


def _end_tree(child: int, grace: float) -> None:
    if not os.path.isdir(f"{PROC}/self"):  # no process table to read: the command's group is all it reaches
        with contextlib.suppress(OSError):
            os.killpg(child, signal.SIGKILL)
        return
    alive = _descendants()
    if alive:
        _signal(alive, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            time.sleep(0.02)
            _reap()
            alive = _descendants()
    for _ in range(KILL_ROUNDS):
        if not alive:
            return
        _signal(alive, signal.SIGKILL)
        time.sleep(0.001)
        _reap()
        alive = _descendants()


def _descendants() -> list[int]:
    """Every living process below this one. As a subreaper nothing below can leave:
    an orphan comes up to this process instead of init."""
    children: dict[int, list[int]] = {}
    for name in os.listdir(PROC):
        if not name.isdigit():
            continue
        try:
            with open(f"{PROC}/{name}/stat", "rb") as file:
                stat = file.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # the name before ")" may hold spaces
        if fields[0] not in (b"Z", b"X"):  # a zombie is dead already; its parent reaps it
            children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [os.getpid()]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

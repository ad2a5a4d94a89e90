"""One way to run a command nobody reviewed (a project's checks on a model's edit;
a model's own commands later): no secrets, limited, and killed whole.

Environment: an allow-list (`ALLOWED`, `LC_*`, and the names a caller passes, such
as `[edits] check_env`), never the rest of the app's environment; a name that holds
a credential's word (`secrets.SECRET_WORDS`: KEY, TOKEN, PASS, AUTH, …) is dropped
even when allowed (a second guard behind the config's refusal). TMPDIR, TMP and TEMP point to a private folder
removed afterwards. This is no file-system sandbox: the command runs as the user
and can read what the user can (the scratch copy is what keeps it off the project).

Limits, per process and inherited by every descendant, each lowered in soft and
hard limit so the command cannot raise it back: core dumps off; CPU seconds (by
default the timeout's worth on every core, since threads add up: the wall-clock
timeout is what stops a run, this ends one that escaped it); writable memory
(RLIMIT_DATA rather than the address space, which thread arenas, Go and the JVM
reserve by the gigabyte without using it); file size; processes. RLIMIT_NPROC
counts every task (thread) the user runs, so the limit is the count when the run
starts plus `processes`: a fork bomb stops there, a busy desktop does not.

Killed whole: the command runs under `sandbox_supervisor.py`, in a session of its
own, and the supervisor is a child subreaper (Linux), so nothing the command
starts leaves its process tree: not `setsid`, not a double fork. The supervisor
ends that tree when the command exits (a daemon a test left), when the app sends
SIGTERM (timeout, cancel) and when the app dies: SIGTERM to every descendant, a
grace period, then SIGKILL until none is left. Should the supervisor itself be
killed or hang (the command can signal it), the app SIGKILLs it and sweeps: every
process whose environment holds this run's marker (`ASSISTANT_SANDBOX=<id>`,
which /proc/PID/environ keeps even when the process clears its variables; only
an exec with a new environment sheds it) is killed, the process pinned by a pidfd
between the check and the kill. A PID namespace would make the tree unescapable
even then, but needs unprivileged user namespaces (often disabled) and shows the
command itself as root; the subreaper and the sweep need no privilege.

Output: stdout and stderr, read as they come; only the first `head` lines and the
last `tail` (each cut at LINE_BYTES) are kept, whatever the command prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.core.secrets import secret_name

MARKER = "ASSISTANT_SANDBOX"
ALLOWED = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ", "VIRTUAL_ENV", "CI", "NO_COLOR",
)
ALLOWED_PREFIXES = ("LC_",)
HEAD_LINES = 20
TAIL_LINES = 5
LINE_BYTES = 2000  # a line longer than this keeps its start and "…"
GRACE_S = 2.0  # between SIGTERM and SIGKILL
SUPERVISOR_MARGIN_S = 5.0  # past its grace, a supervisor that has not exited is killed
DRAIN_S = 2.0  # after the supervisor exits, how long the output may stay open
POLL_S = 0.05
CHUNK = 65536
SWEEP_ROUNDS = 1000
MIB = 2**20
SUPERVISOR = Path(__file__).with_name("sandbox_supervisor.py")

Status = Literal["exited", "timed out", "cancelled", "could not start"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-process limits; 0 = left as it is."""

    cpu_seconds: float | None = None  # None: the timeout's (and grace's) worth on every core
    memory_bytes: int = 4096 * MIB
    file_bytes: int = 1024 * MIB
    processes: int = 1024  # more than the user runs when the command starts


@dataclass(frozen=True, slots=True)
class Result:
    status: Status
    # The command's (128+N for a signal N); negative when its supervisor was killed by
    # signal -N (the command can do that); None when it was stopped or never started.
    exit_code: int | None
    output: str  # its first and last lines, "…" between them when some were left out
    seconds: float


def environment(extra: Sequence[str] = (), source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of `source` (the app's environment) a sandboxed command gets."""
    wanted = {*ALLOWED, *extra}
    return {
        name: value
        for name, value in (os.environ if source is None else source).items()
        if (name in wanted or name.startswith(ALLOWED_PREFIXES)) and not secret_name(name)
    }


def run(
    command: str | Sequence[str],
    cwd: Path,
    *,
    timeout: float,
    cancel: threading.Event,
    limits: Limits = Limits(),
    pass_env: Sequence[str] = (),
    set_env: Mapping[str, str] | None = None,
    scratch: Path | None = None,
    tag: str = "",
    on_start: Callable[[int], None] | None = None,
    head: int = HEAD_LINES,
    tail: int = TAIL_LINES,
) -> Result:
    """Run `command` (a string for /bin/sh, or an argv) in `cwd` until it exits, `timeout`
    seconds pass or `cancel` is set; nothing it started runs on afterwards. `set_env`:
    variables the caller sets itself (never a secret: those names are dropped). Its private
    temp folder is made in `scratch` (else the system's); `tag` names the run's marker
    (unique by default: `sweep(tag)` finds its processes); `on_start` gets the
    supervisor's pid, which is also its process group."""
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    tag = tag or uuid.uuid4().hex
    start = time.monotonic()
    if cancel.is_set():
        return Result("cancelled", None, "", 0.0)
    try:
        tmp = tempfile.mkdtemp(prefix="tmp-", dir=scratch)
    except OSError as exc:
        return Result("could not start", None, f"cannot make its temp folder ({exc.strerror or exc})", 0.0)
    try:
        chosen = {k: v for k, v in (set_env or {}).items() if not secret_name(k)}
        env = environment(pass_env) | chosen | {"TMPDIR": tmp, "TMP": tmp, "TEMP": tmp, MARKER: tag}
        settings = _settings(limits, timeout)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(SUPERVISOR), json.dumps(settings), *argv],
                cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            where = exc.filename or argv[0]
            return Result("could not start", None, f"{where}: {exc.strerror or exc}", time.monotonic() - start)
        if on_start is not None:
            on_start(proc.pid)
        output = BoundedOutput(head, tail)
        stopped = _watch(proc, output, start, timeout, cancel, tag)
        try:
            proc.wait(GRACE_S + SUPERVISOR_MARGIN_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sweep(tag)
        seconds = time.monotonic() - start
        if stopped is not None:
            return Result(stopped, None, output.text(), seconds)
        return Result("exited", proc.returncode, output.text(), seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _settings(limits: Limits, timeout: float) -> dict[str, float | None]:
    cpu = limits.cpu_seconds if limits.cpu_seconds is not None else (timeout + GRACE_S) * (os.cpu_count() or 1)
    return {
        "parent": os.getpid(), "grace": GRACE_S, "cpu": cpu or None, "data": limits.memory_bytes or None,
        "fsize": limits.file_bytes or None, "nproc": limits.processes or None,
    }


def _watch(
    proc: subprocess.Popen[bytes], output: BoundedOutput, start: float, timeout: float, cancel: threading.Event,
    tag: str,
) -> Status | None:
    """Read the output until the supervisor has exited and the output is closed;
    stop it at the timeout or the cancel. Which of the two stopped it, if one did."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    stopped: Status | None = None
    stopped_at = ended_at = 0.0
    swept = False
    with proc.stdout, selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            for _ in selector.select(POLL_S):
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    return stopped
                output.feed(chunk)
            now = time.monotonic()
            if proc.poll() is None:
                if stopped is None and (cancel.is_set() or now - start > timeout):
                    stopped, stopped_at = ("cancelled" if cancel.is_set() else "timed out"), now
                    proc.send_signal(signal.SIGTERM)  # the supervisor ends its tree
                elif stopped is not None and now - stopped_at > GRACE_S + SUPERVISOR_MARGIN_S:
                    proc.kill()  # it hangs (stopped by the command?): the sweep ends the rest
            elif not swept:  # exited, yet something still holds the output open
                swept, ended_at = True, now
                sweep(tag)
            elif now - ended_at > DRAIN_S:  # held by what the sweep cannot see: not waited for
                return stopped


def sweep(tag: str) -> int:
    """Kill every process of this user whose environment holds the marker of run
    `tag`, round after round until none is left; how many were found."""
    needle = f"{MARKER}={tag}".encode()
    killed: set[int] = set()
    for _ in range(SWEEP_ROUNDS):
        found = _marked(needle)
        if not found:
            break
        for pid in found:
            _kill_if_marked(pid, needle)
        killed.update(found)
        time.sleep(0.001)
    return len(killed)


def _marked(needle: bytes) -> list[int]:
    uid, me = os.geteuid(), os.getpid()
    found = []
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != me and _environ_has(name, uid, needle):
                found.append(int(name))
    return found


def _environ_has(pid: str, uid: int, needle: bytes) -> bool:
    try:
        if os.stat(f"/proc/{pid}").st_uid != uid:
            return False
        with open(f"/proc/{pid}/environ", "rb") as file:
            return needle in file.read().split(b"\0")  # a zombie's reads empty: it is dead already
    except OSError:
        return False


def _kill_if_marked(pid: int, needle: bytes) -> None:
    """SIGKILL `pid` if it still holds the marker: through a pidfd, so a process id
    reused between the check and the kill is never someone else's process."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (before Linux 5.3): the window is a few microseconds
        if _environ_has(str(pid), os.geteuid(), needle):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return
    try:
        if _environ_has(str(pid), os.geteuid(), needle):
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)


class BoundedOutput:
    """The first `head` lines and the last `tail` lines of a stream of bytes, each
    cut at `line_bytes`: memory stays the same whatever the stream's size. Lines are
    split as `str.splitlines` splits the decoded text (UTF-8, bad bytes replaced)."""

    def __init__(self, head: int = HEAD_LINES, tail: int = TAIL_LINES, line_bytes: int = LINE_BYTES) -> None:
        self.head_size, self.tail_size, self.line_bytes = head, tail, line_bytes
        self.head: list[str] = []
        self.tail: deque[str] = deque(maxlen=tail)
        self.dropped = 0  # lines neither in `head` nor in `tail`
        self._partial = bytearray()
        self._cut = False

    def feed(self, chunk: bytes) -> None:
        pieces = chunk.split(b"\n")
        self._extend(pieces[0])
        if len(pieces) == 1:
            return
        self._end_line()
        lines = pieces[1:-1]
        room = max(0, self.head_size - len(self.head)) + self.tail_size
        if len(lines) > room:  # the middle is counted, never decoded
            keep_head = max(0, self.head_size - len(self.head))
            for line in lines[:keep_head]:
                self._line(line[: self.line_bytes], len(line) > self.line_bytes)
            skipped = len(lines) - keep_head - self.tail_size
            self.dropped += skipped
            lines = lines[keep_head + skipped :]
        for line in lines:
            self._line(line[: self.line_bytes], len(line) > self.line_bytes)
        self._extend(pieces[-1])

    def text(self) -> str:
        """What was kept, "…" on a line of its own where lines were left out."""
        if self._partial or self._cut:
            self._line(bytes(self._partial), self._cut, ended=False)
            self._partial.clear()
            self._cut = False
        return "\n".join([*self.head, *(["…"] if self.dropped else []), *self.tail])

    def _extend(self, piece: bytes) -> None:
        room = self.line_bytes - len(self._partial)
        self._partial += piece[:room]
        self._cut = self._cut or len(piece) > room

    def _end_line(self) -> None:
        self._line(bytes(self._partial), self._cut)
        self._partial.clear()
        self._cut = False

    def _line(self, raw: bytes, cut: bool, *, ended: bool = True) -> None:
        # With its "\n" back, a line splits as it would inside the whole text: "a\f\n" is two.
        text = raw.decode("utf-8", "replace")
        lines = (text + "\n" if ended else text).splitlines()
        if cut and lines:
            lines[-1] += " …"
        for line in lines:
            if len(self.head) < self.head_size:
                self.head.append(line)
                continue
            if len(self.tail) == self.tail_size:
                self.dropped += 1
            self.tail.append(line)

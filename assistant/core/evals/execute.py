"""Running a model's candidate program, untrusted, and scoring it by how it ends.

Each candidate runs through the one sandbox (core/sandbox.py): its own scratch
folder, an environment from the allow-list (no API key, no token), limits it cannot
raise (CPU seconds, writable memory, file size, processes), a timeout, and its whole
process tree killed at the end. Python runs isolated (`-I -S`: no site packages, no
user folder, no environment variables of its own). Where the OS lets a user make a
network namespace (`unshare -rn`), the candidate runs in a new one with only a
loopback device: it reaches no other host. Where it does not, `isolation()` says so,
and `assistant eval` prints it before it starts.

The process limit is RLIMIT_NPROC, which the kernel never applies to root (nor to a
user namespace root maps to root): run as root (a container, CI), a fork bomb would
fill the process table until the timeout. There, each candidate runs in a pids
cgroup of its own, made next to this process's (cgroup v1's pids hierarchy, or v2's
where it hands pids down) with `pids.max` the same limit, and removed afterwards;
where none can be made, `isolation()` says the limit does not hold.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.core import sandbox

TIMEOUT_S = 10.0  # a HumanEval test runs in well under a second; a loop that never ends does not
LIMITS = sandbox.Limits(cpu_seconds=TIMEOUT_S, memory_bytes=1024 * sandbox.MIB, file_bytes=16 * sandbox.MIB,
                        processes=64)  # fmt: skip
NO_NETWORK = ("unshare", "--user", "--map-root-user", "--net")
# The command joins its cgroup before it becomes the candidate: nothing it starts is outside.
JOIN_CGROUP = ("/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"')
MOUNTS, CGROUPS = Path("/proc/self/mountinfo"), Path("/proc/self/cgroup")
CGROUP_PREFIX = "assistant-eval-"
RMDIR_S = 2.0  # how long a candidate's emptied cgroup may stay busy (its last processes being reaped)


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    status: str  # "passed", "failed: <its last line>", "timed out", "could not run: …"
    seconds: float


@functools.cache
def isolation() -> tuple[tuple[str, ...], str]:
    """The prefix that puts a candidate in a network namespace of its own, and one line
    saying whether it does (an empty prefix when the OS refuses unprivileged ones), and,
    run as root, whether the process limit holds."""
    prefix, line = _network()
    if os.getuid() == 0:
        line += ("; as root, each candidate's processes are capped by a pids cgroup" if _pids_parent() is not None
                 else "; as root, the process limit does not hold (no pids cgroup can be made): "
                      "a fork bomb runs until the timeout")  # fmt: skip
    return prefix, line


def process_limit_holds() -> bool:
    """Whether a candidate's processes are held to `Limits.processes`: by RLIMIT_NPROC
    for any user but root, by a pids cgroup for root where one can be made."""
    return os.getuid() != 0 or _pids_parent() is not None


def _network() -> tuple[tuple[str, ...], str]:
    if shutil.which(NO_NETWORK[0]) is None:
        return (), "no network isolation: `unshare` is not installed (candidates can reach the network)"
    try:
        done = subprocess.run([*NO_NETWORK, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return (), f"no network isolation: unshare failed ({exc}); candidates can reach the network"
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return (), (f"no network isolation: this system refuses unprivileged network namespaces "
                    f"({why[-1] if why else 'unshare failed'}); candidates can reach the network")  # fmt: skip
    return NO_NETWORK, "candidates run with no network (a network namespace of their own)"


@functools.cache
def _pids_parent() -> Path | None:
    """This process's own cgroup folder in a hierarchy where a child cgroup gets a
    `pids.max`, if this process may make one there; None otherwise."""
    try:
        mounts = MOUNTS.read_text(encoding="utf-8").splitlines()
        groups = CGROUPS.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    v1 = v2 = None  # mount points
    for line in mounts:
        mine, _, theirs = line.partition(" - ")
        fields, kind = mine.split(), theirs.split()
        if len(fields) < 5 or len(kind) < 3:
            continue
        if kind[0] == "cgroup" and "pids" in kind[2].split(","):
            v1 = Path(fields[4])
        elif kind[0] == "cgroup2":
            v2 = Path(fields[4])
    for line in groups:
        _, controllers, path = line.split(":", 2)
        if v1 is not None and "pids" in controllers.split(","):
            folder = v1 / path.lstrip("/")
        elif v2 is not None and controllers == "":
            folder = v2 / path.lstrip("/")
            with contextlib.suppress(OSError):
                if "pids" not in (folder / "cgroup.subtree_control").read_text(encoding="utf-8").split():
                    continue
        else:
            continue
        probe = folder / f"{CGROUP_PREFIX}probe-{uuid.uuid4().hex[:12]}"
        try:
            probe.mkdir()
        except OSError:
            continue
        made = (probe / "pids.max").exists()
        _remove(probe)
        if made:
            return folder
    return None


@contextlib.contextmanager
def _process_cap(processes: int) -> Iterator[tuple[str, ...]]:
    """The prefix that puts a candidate in a pids cgroup of its own holding it to
    `processes`, where RLIMIT_NPROC does not bind (root); removed afterwards."""
    parent = _pids_parent() if os.getuid() == 0 and processes else None
    if parent is None:
        yield ()
        return
    group = parent / f"{CGROUP_PREFIX}{uuid.uuid4().hex}"
    try:
        group.mkdir()  # an OSError goes up: the candidate runs capped or not at all
        (group / "pids.max").write_text(str(processes), encoding="ascii")
        yield (*JOIN_CGROUP, str(group / "cgroup.procs"))
    finally:
        _remove(group)


def _remove(group: Path) -> None:
    """rmdir a cgroup once its last processes are reaped (busy until then)."""
    deadline = time.monotonic() + RMDIR_S
    while True:
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)


def run_python(program: str, cancel: threading.Event, *, timeout: float = TIMEOUT_S,
               limits: sandbox.Limits = LIMITS, scratch: Path | None = None) -> Verdict:  # fmt: skip
    """Run `program` as a Python script, isolated (`-I -S`), in a scratch folder of its own;
    it passes when it exits 0 before the timeout."""
    return run_argv([sys.executable, "-I", "-S", "candidate.py"],
                    {"candidate.py": program.encode("utf-8", "surrogateescape")}, cancel, timeout=timeout,
                    limits=limits, scratch=scratch)  # fmt: skip


def run_argv(argv: Sequence[str], files: Mapping[str, bytes], cancel: threading.Event, *, timeout: float = TIMEOUT_S,
             limits: sandbox.Limits = LIMITS, scratch: Path | None = None) -> Verdict:  # fmt: skip
    """Run `argv` in a scratch folder of its own holding `files` (a relative path, its
    bytes), isolated and limited as `run_python` runs a program (a task's hidden test
    beside the files a model edited, run by `python` or `node`); it passes when it exits
    0 before the timeout."""
    folder = Path(tempfile.mkdtemp(prefix="assistant-eval-", dir=scratch))
    try:
        for name, data in files.items():
            target = folder / name
            if Path(name).is_absolute() or ".." in Path(name).parts:
                return Verdict(False, f"could not run: {name} is not inside its folder", 0.0)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        prefix, _ = isolation()
        with _process_cap(limits.processes) as capped:
            result = sandbox.run([*capped, *prefix, *argv], folder, timeout=timeout, cancel=cancel, limits=limits,
                                 scratch=folder, head=0, tail=3)  # fmt: skip
    except OSError as exc:
        return Verdict(False, f"could not run: {exc.filename or 'its folder'}: {exc.strerror or exc}", 0.0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _verdict(result)


def _verdict(result: sandbox.Result) -> Verdict:
    """How a candidate's run scores: passed when it exited 0, else its last line or why it stopped."""
    if result.status == "exited" and result.exit_code == 0:
        return Verdict(True, "passed", result.seconds)
    if result.status == "exited":
        last = next((line.strip() for line in reversed(result.output.splitlines()) if line.strip()), "")
        return Verdict(False, f"failed: {last[:200] or f'exit {result.exit_code}'}", result.seconds)
    if result.status == "timed out":
        return Verdict(False, "timed out", result.seconds)
    return Verdict(False, f"{result.status}: {result.output.strip()[:200]}", result.seconds)

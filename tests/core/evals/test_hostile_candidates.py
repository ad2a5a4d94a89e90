"""A candidate written to do harm is stopped, scored failed, and leaves nothing behind.

Each test runs a hostile program through `execute.run_python` as `assistant eval`
scores a model's code, with a short timeout so the suite stays fast, then checks
that nothing of it runs on (no process whose working folder is its scratch folder),
that its scratch folder is gone and that the machine still runs a candidate. The
last one goes through a whole HumanEval task: the model's answer is the hostile
code, read out and scored as the runner reads and scores it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.core import sandbox
from assistant.core.evals import execute, humaneval

# /proc, the subreaper, the limits as Linux counts them: what these guarantees rest on.
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox's guarantees are Linux's")

TIMEOUT = 3.0  # the app's is 10 s; every candidate here is stopped by a limit or by this
FINISHED_S = 60.0  # generous: "it ended", never a speed claim
FORK_LIMIT = 16  # processes a fork bomb may have (Limits.processes); small, so it hits the limit at once
# A fork bomb where the limit failed stops itself here, so a broken sandbox fails this
# test instead of filling the machine; far above FORK_LIMIT, so the limit is what stops it.
BOMB_SAFETY = 400
# Without root the limit is the user's tasks when the run starts plus FORK_LIMIT: others
# of the user ending meanwhile (other tests) free a few slots for the bomb.
OTHERS_SLACK = 0 if os.getuid() == 0 else 64


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def run(program: str, scratch: Path, limits: sandbox.Limits = execute.LIMITS) -> execute.Verdict:
    started = time.monotonic()
    verdict = execute.run_python(program, threading.Event(), timeout=TIMEOUT, limits=limits, scratch=scratch)
    assert time.monotonic() - started < FINISHED_S
    return verdict


def survivors(scratch: Path) -> list[int]:
    """Living processes whose working folder is (or was) under `scratch`: a candidate's."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
            with open(f"/proc/{name}/stat", "rb") as file:
                state = file.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if cwd.removesuffix(" (deleted)").startswith(str(scratch)) and state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def assert_left_nothing(scratch: Path, pids: Iterable[int] = ()) -> None:
    """Nothing of the candidate runs on, its scratch folder is gone, and the machine
    still starts processes and scores a candidate."""
    assert survivors(scratch) == []
    for pid in pids:
        assert not _alive(pid), pid
    assert list(scratch.iterdir()) == []
    assert subprocess.run(["true"], check=False).returncode == 0
    assert execute.run_python("assert 1 + 1 == 2\n", threading.Event(), timeout=30, scratch=scratch).passed
    assert list(scratch.iterdir()) == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def pids_in(path: Path) -> list[int]:
    return [int(word) for line in path.read_text().splitlines() for word in line.split()[1:2]]


def test_a_candidate_that_sleeps_forever_is_timed_out_with_its_children(scratch: Path, tmp_path: Path) -> None:
    log = tmp_path / "pids"
    program = f"""
import os, signal, subprocess, sys, time
def note(word):
    with open({str(log)!r}, "a") as file:
        file.write(f"{{word}} {{os.getpid()}}\\n")
note("candidate")
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # it will not end when asked
if os.fork() == 0:
    os.setsid()  # a daemon of its own session
    note("daemon")
    time.sleep(10**6)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10**6)"])
time.sleep(10**6)
"""
    verdict = run(program, scratch)
    assert not verdict.passed
    assert verdict.status == "timed out"
    assert len(pids_in(log)) == 2  # the candidate and its daemon were both up
    assert_left_nothing(scratch, pids_in(log))


@pytest.mark.parametrize(
    "program",
    [
        "blob = bytearray(10 * 2**30)\nprint('allocated', len(blob))\n",  # 10 GB at once
        "held = []\nwhile len(held) < 160:\n    held.append(bytearray(2**26))\n",  # 10 GB, 64 MiB at a time
    ],
    ids=["at-once", "growing"],
)
def test_a_candidate_that_allocates_ten_gigabytes_fails_fast_with_memory_error(scratch: Path, program: str) -> None:
    verdict = run(program, scratch)
    assert not verdict.passed
    assert verdict.status == "failed: MemoryError"  # the limit, not the timeout, stopped it
    assert_left_nothing(scratch)


def test_a_candidate_that_writes_a_huge_file_is_stopped_at_the_file_limit(scratch: Path, tmp_path: Path) -> None:
    outside = tmp_path / "huge"
    program = f"""
def fill(path):
    with open(path, "wb") as file:
        while True:
            file.write(b"x" * 2**20)
try:
    fill("huge")  # in its scratch folder
except OSError as exc:
    print("in its folder:", exc)
fill({str(outside)!r})  # wherever it writes, the limit is per file
"""
    verdict = run(program, scratch)
    assert not verdict.passed
    assert verdict.status.startswith("failed:") and "File too large" in verdict.status
    assert 0 < outside.stat().st_size <= execute.LIMITS.file_bytes
    assert_left_nothing(scratch)  # its own huge file went with its folder


@pytest.mark.skipif(not execute.process_limit_holds(), reason=execute.isolation()[1])
def test_a_fork_bomb_stops_at_the_process_limit_and_is_killed_whole(scratch: Path, tmp_path: Path) -> None:
    log = tmp_path / "bomb"
    log.touch()
    program = f"""
import os, time
LOG = {str(log)!r}
def note(word):
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND)
    os.write(fd, f"{{word}} {{os.getpid()}}\\n".encode())
    os.close(fd)
note("up")
refused = False
while True:
    if sum(1 for line in open(LOG) if line.startswith("up")) >= {BOMB_SAFETY}:
        time.sleep(0.05)  # the safety stop: the limit did not hold
        continue
    try:
        if os.fork() == 0:
            note("up")
            refused = False
    except OSError:
        if not refused:
            note("refused")
            refused = True
        time.sleep(0.01)  # forking without end, gently: two cores are shared
"""
    limits = replace(execute.LIMITS, processes=FORK_LIMIT)
    verdict = run(program, scratch, limits=limits)
    assert not verdict.passed
    assert verdict.status == "timed out"
    lines = log.read_text().splitlines()
    up = [line for line in lines if line.startswith("up")]
    assert any(line.startswith("refused") for line in lines), "no fork was ever refused"
    assert len(up) <= FORK_LIMIT + OTHERS_SLACK, len(up)
    assert_left_nothing(scratch, pids_in(log))


def own_address() -> str | None:
    """A non-loopback IPv4 address of this machine (the one its default route leaves by)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: no packet is sent
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server of the test's, outside any namespace, on every address: its port."""
    with socket.create_server(("0.0.0.0", 0), backlog=16) as server:
        yield server.getsockname()[1]


@pytest.mark.skipif(not execute.isolation()[0], reason=execute.isolation()[1])
def test_a_candidate_reaches_no_other_host_and_not_the_test_s_own_server(scratch: Path, tmp_path: Path,
                                                                         listener: int) -> None:  # fmt: skip
    targets = [("127.0.0.1", listener), ("1.1.1.1", 53)]
    if (address := own_address()) is not None:
        targets.insert(1, (address, listener))
    for host, port in targets[:-1]:  # reachable from here: the namespace is what stops the candidate
        socket.create_connection((host, port), timeout=5).close()
    result = tmp_path / "reached"
    program = f"""
import socket, sys
reached = []
with open({str(result)!r}, "w") as out:
    for host, port in {targets!r}:
        try:
            socket.create_connection((host, port), timeout=2).close()
            reached.append(host)
            out.write(f"{{host}} reached\\n")
        except OSError as exc:
            out.write(f"{{host}} {{exc}}\\n")
sys.exit(0 if reached else 1)
"""
    verdict = run(program, scratch)
    assert not verdict.passed, result.read_text()
    lines = result.read_text().splitlines()
    assert len(lines) == len(targets)
    assert not any(line.endswith(" reached") for line in lines), lines
    assert_left_nothing(scratch)


HOSTILE_BODIES = {
    "sleeps": "    import time\n    time.sleep(10**6)\n    return False\n",
    "allocates": "    blob = bytearray(10 * 2**30)\n    return bool(blob)\n",
    "forks": "    import os, time\n    while True:\n        try:\n            os.fork()\n        except OSError:\n"
             "            time.sleep(0.01)\n",
}  # fmt: skip


@pytest.mark.parametrize("behaviour", sorted(HOSTILE_BODIES))
def test_a_humaneval_task_answered_with_hostile_code_is_scored_failed(scratch: Path, behaviour: str) -> None:
    if behaviour == "forks" and not execute.process_limit_holds():
        pytest.skip(execute.isolation()[1])
    problem = next(p for p in humaneval.problems() if p.task_id == "HumanEval/0")

    def score(body: str) -> tuple[bool, execute.Verdict]:
        answer = f"Here it is:\n\n```python\ndef {problem.entry_point}(numbers, threshold):\n{body}```\n"
        code, well_formed = humaneval.completion(problem, answer)
        return well_formed, run(humaneval.program(problem, code), scratch)

    well_formed, verdict = score(HOSTILE_BODIES[behaviour])
    assert well_formed  # read out as code, so the harm ran and was scored
    assert not verdict.passed
    assert verdict.status in ("timed out", "failed: MemoryError")
    assert_left_nothing(scratch)
    # The same path with a right body passes: the failure above is the candidate's.
    body = "".join(f"    {line}\n" for line in
                   ("return any(abs(a - b) < threshold", "           for i, a in enumerate(numbers)",
                    "           for b in numbers[i + 1:])"))  # fmt: skip
    well_formed, verdict = score(body)
    assert well_formed and verdict.passed, verdict.status

"""Running a model's candidate program, untrusted, and scoring it by how it ends.

Each candidate runs through the one sandbox (core/sandbox.py): its own scratch
folder, an environment from the allow-list (no API key, no token), limits it cannot
raise (CPU seconds, writable memory, file size, processes), a timeout, and its whole
process tree killed at the end. Python runs isolated (`-I -S`: no site packages, no
user folder, no environment variables of its own). Where the OS lets a user make a
network namespace (`unshare -rn`), the candidate runs in a new one with only a
loopback device: it reaches no other host. Where it does not, `isolation()` says so,
and `assistant eval` prints it before it starts.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.core import sandbox

TIMEOUT_S = 10.0  # a HumanEval test runs in well under a second; a loop that never ends does not
LIMITS = sandbox.Limits(cpu_seconds=TIMEOUT_S, memory_bytes=1024 * sandbox.MIB, file_bytes=16 * sandbox.MIB,
                        processes=64)  # fmt: skip
NO_NETWORK = ("unshare", "--user", "--map-root-user", "--net")


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    status: str  # "passed", "failed: <its last line>", "timed out", "could not run: …"
    seconds: float


@functools.cache
def isolation() -> tuple[tuple[str, ...], str]:
    """The prefix that puts a candidate in a network namespace of its own, and one line
    saying whether it does (an empty prefix when the OS refuses unprivileged ones)."""
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


def run_python(program: str, cancel: threading.Event, *, timeout: float = TIMEOUT_S,
               limits: sandbox.Limits = LIMITS, scratch: Path | None = None) -> Verdict:  # fmt: skip
    """Run `program` as a Python script in a scratch folder of its own; it passes when it
    exits 0 before the timeout."""
    folder = Path(tempfile.mkdtemp(prefix="assistant-eval-", dir=scratch))
    try:
        (folder / "candidate.py").write_text(program, encoding="utf-8", errors="surrogateescape")
        prefix, _ = isolation()
        result = sandbox.run([*prefix, sys.executable, "-I", "-S", "candidate.py"], folder, timeout=timeout,
                             cancel=cancel, limits=limits, scratch=folder, head=0, tail=3)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if result.status == "exited" and result.exit_code == 0:
        return Verdict(True, "passed", result.seconds)
    if result.status == "exited":
        last = next((line.strip() for line in reversed(result.output.splitlines()) if line.strip()), "")
        return Verdict(False, f"failed: {last[:200] or f'exit {result.exit_code}'}", result.seconds)
    if result.status == "timed out":
        return Verdict(False, "timed out", result.seconds)
    return Verdict(False, f"{result.status}: {result.output.strip()[:200]}", result.seconds)

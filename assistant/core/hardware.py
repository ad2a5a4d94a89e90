"""Facts about this machine: what defaults depend on (the cores llama.cpp should
use, the memory a model may take), and the identity a benchmark's figures are
stored under (`machine_identity`). Each `/proc` file is read in one place here;
off Linux, every probe falls back to what the standard library can tell."""

from __future__ import annotations

import functools
import os
import platform
import shutil
import socket
import subprocess
from pathlib import Path

CPUINFO, MEMINFO = Path("/proc/cpuinfo"), Path("/proc/meminfo")
GPU_QUERY_SECONDS = 2.0


def _cpuinfo() -> list[tuple[str, str]]:
    """/proc/cpuinfo's `key: value` lines, stripped; none where it cannot be read."""
    try:
        text = CPUINFO.read_text()
    except OSError:
        return []
    return [(key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in text.splitlines())]


def _meminfo_bytes(field_name: str) -> int | None:
    """A /proc/meminfo field (`MemTotal`, `MemAvailable`) in bytes, or None where it cannot be read."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def physical_cores() -> int:
    """Physical cores this process may use (hyper-threads do not speed up llama.cpp)."""
    usable = usable_cpus()
    cores: set[tuple[str, str]] = set()
    physical = ""
    for key, value in _cpuinfo():
        if key == "physical id":
            physical = value
        elif key == "core id":
            cores.add((physical, value))
    return max(1, min(len(cores) or usable, usable))


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo, or None where that cannot be read."""
    return _meminfo_bytes("MemAvailable")


def _total_memory_bytes() -> int | None:
    found = _meminfo_bytes("MemTotal")
    if found is not None:
        return found
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _cpu_model() -> str:
    for key, value in _cpuinfo():
        if key == "model name" and value:
            return " ".join(value.split())
    return platform.processor() or platform.machine() or "unknown CPU"


def _gpu_names() -> str:
    """The NVIDIA GPUs `nvidia-smi` lists (`2× NVIDIA H200`), or `no GPU`."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return "no GPU"
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=GPU_QUERY_SECONDS, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "no GPU"
    names = [line.strip() for line in out.splitlines() if line.strip()]
    if not names:
        return "no GPU"
    distinct = sorted(set(names), key=names.index)
    return ", ".join(f"{names.count(n)}× {n}" if names.count(n) > 1 else n for n in distinct)


@functools.cache
def machine_identity() -> str:
    """`host · CPU model · N cores · RAM · GPU` (computed once per process): what a
    benchmark's figures are stored under, so that two machines' are told apart."""
    memory = _total_memory_bytes()
    return " · ".join((
        socket.gethostname() or "unknown host",
        _cpu_model(),
        f"{physical_cores()} cores",
        f"{memory / 2**30:.0f} GiB" if memory else "? GiB",
        _gpu_names(),
    ))  # fmt: skip

"""Facts about this machine that defaults depend on."""

from __future__ import annotations

import os
from pathlib import Path


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def physical_cores() -> int:
    """Physical cores this process may use (hyper-threads do not speed up llama.cpp)."""
    usable = usable_cpus()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return usable
    cores: set[tuple[str, str]] = set()
    physical = core = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            core = value.strip()
            cores.add((physical, core))
    return max(1, min(len(cores) or usable, usable))


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo, or None where that cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None

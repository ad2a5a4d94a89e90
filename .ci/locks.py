"""Reads the lock files (uv's requirements format with hashes); stdlib only, so it runs
before anything is installed.

    python3 .ci/locks.py entry NAME LOCK    # NAME's requirement with its hashes, for `pip -r`
    python3 .ci/locks.py moved OLD NEW      # what moved between two locks, a line each
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# A requirement starts a line: `name==version` (an environment marker may follow).
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalise(name: str) -> str:
    """PEP 503's form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def entries(text: str) -> dict[str, list[str]]:
    """Each requirement's lines (the pin and its hashes, comments dropped), by name.
    A name locked twice (one version per Python range) keeps all its blocks."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        pin = _PIN.match(line)
        if pin:
            current = found.setdefault(normalise(pin.group(1)), [])
            current.append(line)
        elif current is not None and line.strip().startswith("--hash="):
            current.append(line)
        else:
            current = None
    return found


def versions(text: str) -> dict[str, set[str]]:
    """Each locked name's versions, marker included when there is one."""
    out: dict[str, set[str]] = {}
    for name, lines in entries(text).items():
        for line in lines:
            pin = _PIN.match(line)
            if pin:
                marker = line.split(";", 1)[1].rstrip(" \\").strip() if ";" in line else ""
                out.setdefault(name, set()).add(pin.group(2) + (f" ; {marker}" if marker else ""))
    return out


def moved(old: str, new: str) -> list[str]:
    """`name old -> new` for each change, then what was added and removed."""
    before, after = versions(old), versions(new)
    lines = []
    for name in sorted(before.keys() | after.keys()):
        was, now = sorted(before.get(name, ())), sorted(after.get(name, ()))
        if was == now:
            continue
        if not was:
            lines.append(f"{name}: added {', '.join(now)}")
        elif not now:
            lines.append(f"{name}: removed (was {', '.join(was)})")
        else:
            lines.append(f"{name}: {', '.join(was)} -> {', '.join(now)}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "entry":
        blocks = entries(Path(argv[2]).read_text()).get(normalise(argv[1]))
        if not blocks:
            print(f"{argv[1]} is not in {argv[2]}", file=sys.stderr)
            return 1
        print("\n".join(blocks))
        return 0
    if len(argv) == 3 and argv[0] == "moved":
        old = Path(argv[1]).read_text() if Path(argv[1]).exists() else ""
        lines = moved(old, Path(argv[2]).read_text())
        print("\n".join(lines) if lines else "nothing moved")
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Log lines: "2024-05-01 12:00:03 WARNING disk almost full"."""

from dataclasses import dataclass

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Record:
    when: str
    level: str
    message: str


def parse_line(line):
    """The record on `line`, or None for a line that is not one."""
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4 or parts[2] not in LEVELS:
        return None
    return Record(f"{parts[0]} {parts[1]}", parts[2], parts[3])


def read(lines):
    return [record for record in map(parse_line, lines) if record is not None]

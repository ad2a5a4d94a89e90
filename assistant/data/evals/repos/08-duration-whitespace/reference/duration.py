"""Durations as people type them ("1h 30m", "45s", "2d 4h") read into seconds, and back."""

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text):
    """Seconds in `text`: numbers each followed by a unit (d, h, m, s), separated by spaces."""
    total = 0
    for part in text.split():
        if part[-1:] not in UNITS:
            raise ValueError(f"not a duration: {text!r}")
        total += int(part[:-1]) * UNITS[part[-1]]
    return total


def format_duration(seconds):
    """`seconds` as parse_duration reads it: "1h 30m", "0s" for none."""
    parts = []
    for unit, size in UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"

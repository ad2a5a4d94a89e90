"""The closing lines of a bench: each figure against its target, and the exit status.

    from targets import report   # a bench runs as `python bench/NAME.py`
    return report([(f"figure {x:.1f} ms", x < 50, "< 50 ms"), ...])
"""

from __future__ import annotations

from collections.abc import Sequence


def report(checks: Sequence[tuple[str, bool, str]], width: int = 40, target_width: int = 16) -> int:
    """Print `what was measured  target ...  ok|MISSED` for each check; 0 when all passed, else 1."""
    for text, passed, target in checks:
        print(f"  {text:{width}} target {target:{target_width}} {'ok' if passed else 'MISSED'}")
    return 0 if all(passed for _, passed, _ in checks) else 1

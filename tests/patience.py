"""How long a test waits for something that should happen before it calls it a hang.

A wait is a guard against a hang, never a measure of speed: CI shares two cores with
whatever else runs, so a wait is as long as a loaded machine could need and far longer
than a working one takes. What a person feels (a stall, how fast a cancel lands) is
measured in bench/, against a target; a test checks the mechanism.
"""

from __future__ import annotations

import time
from collections.abc import Callable

PATIENCE = 120.0  # seconds; a working machine takes well under one
# Much longer than anything a test waits for: a fault scripted to last this long (a stall,
# a hung child) is one the code under test must cut short, and a test can tell "cut
# short" from "waited out" with a bound of half of it, which load cannot reach.
FOREVER = 600.0


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = PATIENCE, poll: float = 0.01) -> None:
    """Return once `predicate()` holds; fail, naming `what`, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {timeout:.0f} s")
        time.sleep(poll)

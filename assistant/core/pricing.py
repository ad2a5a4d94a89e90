"""What a turn cost. Cost formulas live here, never in display code."""

from __future__ import annotations

SECONDS_PER_HOUR = 3600.0


def local_turn_cost(machine_dollars_per_hour: float, seconds: float) -> float:
    """A local turn's cost: the machine's hourly cost spread over the turn's measured time."""
    return machine_dollars_per_hour * max(seconds, 0.0) / SECONDS_PER_HOUR

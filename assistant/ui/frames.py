"""When the next frame of a streaming answer is painted.

A model in this process (or on this machine) generates on every core, and
llama.cpp's threads wait for each other at each step: whatever CPU the screen
takes, the model loses, as wall time (bench/tui_local.py, bench/tui_terminal.py).
A frame's cost is not fixed: it grows with the terminal's size, the theme, the
machine. So frames are paced by what they cost, measured: the UI thread's CPU
time since the last frame, against a share of one core. A frame that cost
4.5 ms at a 3% share waits 150 ms for the next; cheap frames go at the most
frames a second. A model elsewhere (Claude) costs this machine nothing, and
its answer is painted at the most frames a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_HZ = 2.0  # however costly the frames, an answer shows at least this often


@dataclass(slots=True)
class FramePacer:
    max_hz: float  # the most frames a second (`ui.answer_refresh_hz`)
    cpu_share: float  # of one core, while the model runs on this machine (`ui.frame_cpu_share`)
    shares_cpu: bool = False  # the answering model runs on this machine's CPU
    _cost: float | None = field(default=None, repr=False)  # the smoothed CPU seconds per frame

    def delay(self, spent: float) -> float:
        """Seconds from this frame to the next, `spent` being the UI thread's CPU
        seconds since the previous frame (this frame's work, and all else since)."""
        shortest = 1 / self.max_hz
        if not self.shares_cpu or self.cpu_share <= 0:
            return shortest
        # Smoothed, so that one slow frame (a layout, a key press) does not halve the rate.
        self._cost = spent if self._cost is None else 0.5 * self._cost + 0.5 * spent
        return min(max(shortest, self._cost / self.cpu_share), 1 / min(MIN_HZ, self.max_hz))

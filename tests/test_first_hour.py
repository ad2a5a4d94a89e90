"""The first hour, scripted end to end as a new user lives it: real `assistant`
processes on a fresh home, in a small git repository with a pytest test and no
config, the embedded SmolLM2 on this machine, and Claude through the real
`anthropic` SDK against the loopback Messages API (tests/fake_anthropic.py).

Each step is one thing the first hour got wrong before (issue 26):
- a file named with `@` is what the model sees;
- a 40 KB question with Claude up is answered by Claude, whole;
- an edit turn, while the local model's quality on edits is not measured, goes
  to Claude and says why;
- an edit that breaks the project's tests is refused, with no config at all;
- a typed `sk_live_…` key stays on this machine and in no file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core.paths import LEDGER_FILE, Paths
from tests.conftest import TEST_KEY
from tests.core.edits.gitrepo import git, make_repo
from tests.fake_anthropic import Answer, FakeAnthropic

pytestmark = pytest.mark.model

CALC = 'def mean(values):\n    """The arithmetic mean."""\n    return sum(values) / len(values)\n'
TEST = "from src.calc import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n"
KEY = "sk_live_51HxYzQ8rT2vLm9NbC4kW7pXs3AdEf6Gh"
RENAME = (
    "src/calc.py\n<<<<<<< SEARCH\ndef mean(values):\n=======\ndef average(values):\n>>>>>>> REPLACE\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for folder in ("src", "tests"):
        (tmp_path / "calc" / folder).mkdir(parents=True)
    root = make_repo(tmp_path / "calc", {"src/__init__.py": "", "src/calc.py": CALC, "tests/test_calc.py": TEST})
    monkeypatch.chdir(root)
    return root


def assistant(fake: FakeAnthropic, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`assistant ARGV` as typed, Claude reachable through the fake, the local model small and quick."""
    flags = [
        "--set", f"backends.claude.base_url={fake.base_url}",
        "--set", "backends.claude.max_retries=0",
        "--set", "general.debug_log=true",  # the SDK's own records too: a secret must not be there either
        "--max-tokens", "24", "--temperature", "0", "--n-threads", "1",
        "--set", "backends.claude.max_tokens=400",  # room for an edit block; the local model stays short
    ]  # fmt: skip
    env = {**os.environ, "ANTHROPIC_API_KEY": TEST_KEY}
    return subprocess.run([sys.executable, "-m", "assistant", argv[0], *flags, *argv[1:]], capture_output=True,
                          text=True, input=stdin, env=env, timeout=300)  # fmt: skip


def sent_to_claude(fake: FakeAnthropic) -> str:
    return "\n".join(r.body.decode() for r in fake.message_requests())


def test_the_first_hour(project: Path, fake: FakeAnthropic) -> None:
    # 1. "Explain @src/calc.py": the file's text is in the request, and the note says so.
    fake.enqueue(Answer("It computes the mean."))
    done = assistant(fake, "ask", "@claude explain @src/calc.py")
    assert done.returncode == 0, done.stderr
    assert "The arithmetic mean." in sent_to_claude(fake) and "return sum(values) / len(values)" in sent_to_claude(fake)
    assert "src/calc.py" in done.stderr and "tokens" in done.stderr

    # 2. A 40 KB question while Claude is up: Claude answers it, whole.
    fake.enqueue(Answer("A long answer."))
    before = len(fake.message_requests())
    words = " ".join(f"line{i} of the log" for i in range(2_600))
    assert len(words) > 40_000
    done = assistant(fake, "ask", "--why", stdin=f"what went wrong here?\n{words}\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "A long answer."
    [request] = fake.message_requests()[before:]
    assert "line2599 of the log" in request.body.decode()

    # 3. An edit turn, nothing rated yet: the strongest backend, and why.
    fake.enqueue(Answer("Rename it in both places."))
    done = assistant(fake, "ask", "--why", "--kind", "edit", "rename mean to average in src/calc.py")
    assert done.returncode == 0, done.stderr
    assert "local's quality on edit is not measured yet → claude" in done.stderr

    # 4. An edit that breaks the tests, on a repository with pytest tests and no config: refused.
    fake.enqueue(Answer(RENAME), Answer(RENAME))  # the repair round proposes it again
    head = git(project, "rev-parse", "HEAD")
    done = assistant(fake, "refactor", "--backend", "claude", "--yes", "src/calc.py", "-m", "rename mean to average")
    assert done.returncode == 4, (done.stdout, done.stderr)  # refused by its checks
    assert "pytest" in done.stdout + done.stderr
    assert (project / "src/calc.py").read_text() == CALC
    assert git(project, "rev-parse", "HEAD") == head

    # 5. A typed live key: answered here; not in Claude's requests, the ledger or the log.
    before = len(fake.message_requests())
    done = assistant(fake, "ask", "--why", f"@quality why does stripe reject key {KEY}?")
    assert done.returncode == 0, done.stderr
    assert "Stripe live key → local" in done.stderr
    secret = KEY.removeprefix("sk_live_")
    assert len(fake.message_requests()) == before and secret not in sent_to_claude(fake)
    data = Paths.resolve().data_dir
    assert secret.encode() not in b"".join(p.read_bytes() for p in data.glob(f"{LEDGER_FILE}*"))
    assert secret.encode() not in Paths.resolve().log_file.read_bytes()
    assert secret not in done.stderr

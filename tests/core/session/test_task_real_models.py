"""Tasks on the real embedded model (SmolLM2), in process through llama.cpp and, when
built, through a real llama-server with `--jinja`: over 200 generated model steps (varied
tasks, tool subsets of the project, seeds and temperatures), every call the model makes is
read (parsed, or repaired: a name normalised, an unknown tool or bad arguments answered),
none is unparseable, and every task ends within its cap. The model's competence is not
judged. Slow: run with `-m slow`; each prints its counts."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.backends.server.backend import ServerBackend
from assistant.core.config import Config, ServerConfig
from assistant.core.events import StepStarted, ToolFinished
from assistant.core.session.chat import ChatSession
from assistant.core.session.task import CUT, UNREADABLE
from assistant.core.store.ledger import Ledger
from tests.backends.server.test_server_tool_calls import started
from tests.backends.server.conftest import SLOTS, LlamaServer
from tests.conftest import small_options
from tests.core.edits.test_vcs import make_repo

pytestmark = [pytest.mark.slow, pytest.mark.model]

TASKS = (
    "What does calc.py define? Read it.",
    "Find where add is used in this project.",
    "List the project's files, then say which one holds the tests.",
    "Fix the bug in calc.py so that test_calc.py passes.",
    "Run the tests and tell me what fails.",
    "Add a function mul to calc.py.",
    "Create a README.md that says what calc.py does.",
    "Which files mention subtract?",
)
STEPS_WANTED = 200
CAP = 4


def _project(root: Path) -> Path:
    make_repo(root, {
        "calc.py": "def add(a, b):\n    return a - b\n\n\ndef subtract(a, b):\n    return a - b\n",
        "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        ".gitignore": "__pycache__/\n",
    })  # fmt: skip
    return root


def run_tasks(tmp_path: Path, session_for: callable) -> Counter[str]:  # type: ignore[valid-type]
    """Tasks until STEPS_WANTED model steps: the counts of what the model's calls became."""
    counts: Counter[str] = Counter()
    n = 0
    while counts["steps"] < STEPS_WANTED:
        root = _project(tmp_path / f"p{n}")
        session = session_for(n, root)
        events: list[object] = []
        result = session.act(TASKS[n % len(TASKS)], threading.Event(), events.append, mode="read-only")
        session.close()
        steps = sum(isinstance(e, StepStarted) for e in events)
        assert result.steps == steps <= CAP, (result.end, result.reason)
        assert result.end in ("answered", "steps"), (result.end, result.reason)
        counts["steps"] += steps
        counts["tasks"] += 1
        counts[f"end {result.end}"] += 1
        for event in events:
            if isinstance(event, ToolFinished):
                counts["calls"] += 1
                if event.permission == CUT:
                    counts["cut by max_tokens (told to call again)"] += 1
                elif event.permission == UNREADABLE:
                    unreadable = "not JSON" in event.summary
                    counts["unreadable" if unreadable else "answered (unknown tool, bad arguments)"] += 1
                    if unreadable:
                        print("unreadable:", event.summary)
                elif event.permission.startswith("refused"):
                    counts["refused by the rules"] += 1
                else:
                    counts["ran"] += 1
        n += 1
    print(dict(counts))
    return counts


def test_two_hundred_steps_in_process_are_all_read(tmp_path: Path) -> None:
    def session_for(n: int, root: Path) -> ChatSession:
        options = small_options(max_tokens=160, n_ctx=4096, seed=n, temperature=(0.0, 0.7, 1.0)[n % 3])
        backend = LlamaCppBackend(options)
        backend.load()
        config = Config().with_overrides({"general.backend": "local", "tools.max_steps": CAP})
        return ChatSession(config, backend, ledger=Ledger.open, project_root=root)

    counts = run_tasks(tmp_path, session_for)
    assert counts["unreadable"] == 0
    assert counts["calls"] > 0


@pytest.fixture(scope="module")
def tool_server() -> Iterator[LlamaServer]:
    """llama-server with --jinja and SmolLM2 under its own template, which cannot call tools
    (/props says so): `[servers.NAME] tool_format = "auto"` then holds its output to the
    tools' JSON schema (response_format), as the in-process model's grammar does. Each slot
    has room for a task's prompt: its tools, its steps (the last -c wins)."""
    yield from started("--jinja", "-c", str(8192 * SLOTS))


def test_two_hundred_steps_on_llama_server_are_all_read(tmp_path: Path, tool_server: LlamaServer) -> None:
    """On a real llama-server with --jinja, the tool format chosen from what it says."""

    def session_for(n: int, root: Path) -> ChatSession:
        settings = ServerConfig(base_url=tool_server.base_url, max_tokens=160,  # type: ignore[call-arg]
                                temperature=(0.0, 0.7, 1.0)[n % 3])  # fmt: skip
        backend = ServerBackend("gpu", settings)
        backend.load()
        config = Config().with_overrides({"tools.max_steps": CAP, "router.fallback": []})
        return ChatSession(config, backend, ledger=Ledger.open, project_root=root)

    counts = run_tasks(tmp_path, session_for)
    assert counts["unreadable"] == 0
    assert counts["calls"] > 0

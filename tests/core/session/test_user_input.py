"""Reading what a person typed: `~` in prose, names relative to where they stand,
and time linear in the message's size (issue 10, items 1 and 2)."""

from __future__ import annotations

import pwd
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.session.chat import ChatSession
from assistant.core.config import Config
from assistant.core.session.user_input import mentioned_files, parse_turn
from tests.linear import assert_linear

MEGABYTE = 1_000_000
BACKENDS = ("local", "claude")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "target.py").write_text("root\n")
    (root / "sub" / "target.py").write_text("sub\n")
    (root / "sub" / "inner.py").write_text("inner\n")
    return root


@pytest.fixture
def no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """As `env -u HOME` for a user with no passwd entry: no home folder at all."""
    monkeypatch.delenv("HOME", raising=False)

    def missing(*_: object) -> None:
        raise KeyError("no such user")

    monkeypatch.setattr(pwd, "getpwuid", missing)
    monkeypatch.setattr(pwd, "getpwnam", missing)


@pytest.mark.parametrize(
    "text",
    ["it costs ~5/month, is that ok?", "see ~/notes.md", "~user/x.py and ~", "~" * 50, "~/" * 20],
)
def test_a_tilde_is_ordinary_text_even_with_no_home_folder(project: Path, no_home: None, text: str) -> None:
    # Before: RuntimeError("Could not determine home directory") from Path.expanduser().
    assert mentioned_files(text, project, cwd=project) == ()


def test_a_tilde_sentence_does_not_need_a_user_named_after_it(project: Path) -> None:
    # `~5/month` was read as the home folder of a user named "5": RuntimeError even with HOME set.
    assert mentioned_files("it costs ~5/month, is that ok? see target.py", project, cwd=project) == ("target.py",)


def test_names_are_read_from_where_the_person_stands(project: Path) -> None:
    # Before: `target.py` typed in sub/ meant the root's target.py, and inner.py was not found.
    here = project / "sub"
    assert mentioned_files("fix target.py and inner.py", project, cwd=here) == ("sub/target.py", "sub/inner.py")
    assert mentioned_files("and ../target.py", project, cwd=here) == ("target.py",)


def test_an_absolute_name_inside_the_project_counts_and_one_outside_does_not(project: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.py").write_text("x\n")
    text = f"look at {project / 'sub' / 'inner.py'} and {tmp_path / 'elsewhere.py'} and ../../elsewhere.py"
    assert mentioned_files(text, project, cwd=project / "sub") == ("sub/inner.py",)


def test_names_in_prose_punctuation_and_brackets_are_found(project: Path) -> None:
    page = project / "app" / "[id]"
    page.mkdir(parents=True)
    (page / "page.tsx").write_text("x\n")
    text = "Is `target.py`, (or app/[id]/page.tsx) the one? \"sub/inner.py\"."
    assert mentioned_files(text, project, cwd=project) == ("target.py", "app/[id]/page.tsx", "sub/inner.py")


def test_a_session_whose_root_does_not_hold_the_current_folder_reads_names_from_its_root(project: Path) -> None:
    assert mentioned_files("see target.py", project) == ("target.py",)  # the cwd is the repository's


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "a" * n,  # one long word: the old regex backtracked on it, quadratically
        lambda n: "a/" * (n // 2),
        lambda n: "~" * n,
        lambda n: "x." * (n // 2),
        lambda n: "x.py " * (n // 5),
        lambda n: " ".join(f"f{i}.py" for i in range(n // 8)),
        lambda n: "@" * n,
        lambda n: "@local " * (n // 7) + "hi",
    ],
    ids=["word", "slashes", "tildes", "dots", "repeated-name", "distinct-names", "ats", "prefix-flood"],
)
def test_reading_a_message_takes_time_linear_in_its_size(project: Path, make) -> None:
    def work(text: str) -> None:
        mentioned_files(parse_turn(text, BACKENDS).text, project, cwd=project)

    assert_linear(work, make, (50_000, 100_000, 200_000))


class _Timed(ScriptedBackend):
    """Notes when the turn reaches the backend: everything before is input handling."""

    reached: float | None = None

    def stream(self, messages, cancel):  # noqa: ANN001, ANN201
        self.reached = time.perf_counter()
        yield from super().stream(messages, cancel)


@pytest.mark.parametrize(
    "make",
    [lambda n: "a" * n, lambda n: "x.py " * (n // 5), lambda n: " ".join(f"f{i}.py" for i in range(n // 8)),
     lambda n: "~" * n, lambda n: "@scripted " * (n // 10) + "hi", lambda n: "[" * n],
    ids=["word", "repeated-name", "distinct-names", "tildes", "prefix-flood", "brackets"],
)
def test_a_prompt_of_up_to_a_megabyte_reaches_the_backend_in_time_linear_in_its_size(project: Path, make) -> None:
    """The whole input path (prefixes, mentions, the route and the window), each turn
    on a new session. Its target, 100 ms for a megabyte, is bench/input_parse.py's
    ("to backend"): a busy machine cannot keep a time, but a quadratic step stays one."""
    config = Config()  # the backend's window is its whole context (10 MB)

    def to_backend(text: str) -> None:
        backend = _Timed(["ok"], context_size=10 * MEGABYTE)
        backend.load()
        result = ChatSession(config, backend, project_root=project).run_turn(text, threading.Event())
        assert result.outcome == "ok" and backend.reached is not None

    to_backend("warm up the imports")
    assert_linear(to_backend, make, (MEGABYTE // 4, MEGABYTE // 2, MEGABYTE))


def test_prefixes_are_read_and_removed() -> None:
    parsed = parse_turn("  @local @quality @batch fix it", BACKENDS)
    assert (parsed.text, parsed.forced, parsed.kind) == ("fix it", "local", "batch")
    assert parsed.flags
    assert parse_turn("@nobody hi", BACKENDS).text == "@nobody hi"
    assert parse_turn("  plain", BACKENDS).text == "  plain"
    assert parse_turn("@local" * 1000 + " hi", BACKENDS).text == "hi"


def test_a_router_plugin_is_named_even_with_no_home_folder(tmp_path: Path, no_home: None) -> None:
    """The turn's router chain names a plugin file relative to home: with none, it was
    `RuntimeError` from Path.home() on every turn's first routing."""
    from assistant.core.routing.discovery import load_router
    from assistant.core.routing.protocol import RouterError

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text("raise ZeroDivisionError('division by zero')\n")
    config = Config()
    config = replace(config, router=replace(config.router, plugins_dir=str(plugins)))
    with pytest.raises(RouterError, match="ZeroDivisionError"):
        load_router("broken", config)

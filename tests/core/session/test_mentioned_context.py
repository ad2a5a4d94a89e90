"""What a person names is what the model sees (issue 26, item 1): `@path`, a path
written plainly, `@folder/` and `@glob` put the project's files into the turn's
own message, fitted into each backend's window, with a note naming each file and
its tokens, and each that did not go in and why."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import BackendError, FallbackStarted, Notice
from assistant.core.session.attached import MAX_BYTES, MAX_FILES, attach, said
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.session.pinned import pinned_message
from assistant.core.session.user_input import parse_turn
from assistant.core.text import clean_text
from tests.backends.claude.conftest import claude_config, claude_from
from tests.fake_anthropic import Answer, FakeAnthropic

CALC = "def mean(xs):\n    return sum(xs) / len(xs)\n"
OUTSIDE = "TOP SECRET FROM OUTSIDE THE PROJECT"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small git repository, as a person's project is."""
    root = tmp_path / "project"
    files = {
        "src/calc.py": CALC,
        "src/util.py": "def helper():\n    return 1\n",
        "tests/test_calc.py": "from src.calc import mean\n",
        "tests/unit/test_deep.py": "def test_deep(): pass\n",
        "tests/helper.py": "HELPER = 1\n",
        "build/generated.py": "GENERATED = 1\n",
        ".gitignore": "build/\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    return root


def session(
    root: Path, *, local: dict | None = None, claude: dict | None = None
) -> tuple[ChatSession, ScriptedBackend, ScriptedBackend]:
    """A routed session on two scripted backends (their tokens are words), both loaded."""
    remote = ScriptedBackend(["Claude's answer."], name="claude", local=False, model_name="claude-sonnet-5-5",
                             context_size=200_000, **(claude or {}))  # fmt: skip
    here = ScriptedBackend(["Local answer."], name="local", **(local or {}))
    remote.load()
    here.load()
    config = Config()
    config = replace(config, general=replace(config.general, backend=AUTO))
    s = ChatSession(config, backends={"claude": remote, "local": here}, installed=False, project_root=root)
    return s, remote, here


def ask(s: ChatSession, text: str) -> tuple[object, list[str]]:
    seen: list = []
    result = s.run_turn(text, threading.Event(), seen.append)
    return result, [e.text for e in seen if isinstance(e, Notice)]


def sent(backend: ScriptedBackend) -> str:
    """Everything the backend's last prompt held."""
    return "\n".join(m.content for m in backend.seen[-1])


# -- one file ------------------------------------------------------------------------


def test_an_at_named_file_reaches_the_model_with_its_tokens_said(project: Path) -> None:
    # Before: only the sentence was sent (19 prompt tokens); the model invented the file.
    s, _, local = session(project)
    result, notes = ask(s, "Explain @src/calc.py")
    assert result.backend == "local"
    current = local.seen[-1][-1]
    assert current.role == "user"
    assert current.content.startswith("File: src/calc.py\n```\n" + CALC + "```")
    assert current.content.endswith("Explain @src/calc.py")
    assert any("src/calc.py (" in n and " tokens)" in n for n in notes), notes


def test_a_path_written_plainly_reaches_the_model(project: Path) -> None:
    s, claude, local = session(project)
    result, _ = ask(s, "fix the bug in src/calc.py, please")
    answered = claude if result.backend == "claude" else local  # an edit's route is the router's
    assert CALC in answered.seen[-1][-1].content


def test_an_at_named_file_whose_name_prose_would_cut_is_one_file_not_a_glob(project: Path) -> None:
    page = project / "app" / "[id]"
    page.mkdir(parents=True)
    (page / "page.tsx").write_text("export default function Page() {}\n")
    (project / "app" / "i").mkdir()
    (project / "app" / "i" / "page.tsx").write_text("the glob's reading\n")
    s, _, local = session(project)
    ask(s, "explain @app/[id]/page.tsx")
    current = local.seen[-1][-1].content
    assert "File: app/[id]/page.tsx\n" in current and "glob's reading" not in current


def test_a_file_is_read_at_each_mention_and_held_by_that_turn_only(project: Path) -> None:
    s, _, local = session(project)
    ask(s, "Explain @src/calc.py")
    (project / "src" / "calc.py").write_text("def mean(xs):\n    return 0\n")
    ask(s, "and now @src/calc.py?")
    assert "return 0" in local.seen[-1][-1].content and CALC not in sent(local)
    ask(s, "thanks")
    assert "File: " not in sent(local)  # the history keeps what was typed, not the files
    assert [e.user.content for e in s.exchanges] == ["Explain @src/calc.py", "and now @src/calc.py?", "thanks"]


def test_a_pinned_file_is_not_added_twice(project: Path) -> None:
    s, _, local = session(project)
    s.pin("src/calc.py", pinned_message("src/calc.py", CALC))
    _, notes = ask(s, "Explain @src/calc.py")
    assert sent(local).count("return sum(xs)") == 1
    assert any("src/calc.py (pinned)" in n for n in notes), notes


def test_a_file_with_fences_of_its_own_keeps_its_block_whole(project: Path) -> None:
    (project / "NOTES.md").write_text("# Notes\n```python\nx = 1\n```\n")
    s, _, local = session(project)
    ask(s, "summarise @NOTES.md")
    assert "File: NOTES.md\n````\n# Notes\n```python\nx = 1\n```\n````" in local.seen[-1][-1].content


# -- folders and globs -----------------------------------------------------------------


def test_a_folder_adds_the_project_files_in_it_that_git_does_not_ignore(project: Path) -> None:
    s, _, local = session(project)
    ask(s, "review @src/ and @build/")
    current = local.seen[-1][-1].content
    assert "File: src/calc.py" in current and "File: src/util.py" in current
    assert "GENERATED" not in current


@pytest.mark.parametrize(
    ("text", "held", "not_held"),
    [
        ("look at @tests/**/test_*.py", {"tests/test_calc.py", "tests/unit/test_deep.py"}, {"tests/helper.py"}),
        ("look at @src/*.py", {"src/calc.py", "src/util.py"}, {"tests/test_calc.py"}),
        ("(see @**/calc.py)", {"src/calc.py"}, {"src/util.py", "build/generated.py"}),
    ],
)
def test_a_glob_adds_the_matching_project_files(project: Path, text: str, held: set[str], not_held: set[str]) -> None:
    s, _, local = session(project)
    ask(s, text)
    current = local.seen[-1][-1].content
    assert all(f"File: {name}\n" in current for name in held)
    assert not any(f"File: {name}\n" in current for name in not_held)


def test_binaries_and_text_that_is_not_utf8_are_left_out_with_why(project: Path) -> None:
    (project / "src" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (project / "src" / "latin.py").write_bytes("x = 'café'\n".encode("latin-1"))
    s, _, local = session(project)
    _, notes = ask(s, "review @src/")
    assert "File: src/calc.py" in local.seen[-1][-1].content
    said = " ".join(notes)
    assert "src/logo.png: looks binary" in said and "src/latin.py: is not UTF-8" in said


def test_a_glob_over_more_files_than_a_turn_holds_takes_the_first_and_says_so(project: Path) -> None:
    many = project / "many"
    many.mkdir()
    for i in range(MAX_FILES + 5):
        (many / f"f{i:03}.txt").write_text(f"file {i}\n")
    s, _, local = session(project, local={"context_size": 1_000_000})
    _, notes = ask(s, "count @many/*.txt")
    assert local.seen[-1][-1].content.count("File: many/") == MAX_FILES
    assert any(f"{MAX_FILES + 5} files match: the first {MAX_FILES} were taken" in n for n in notes), notes


def test_the_bytes_a_turn_reads_are_capped_with_a_note(project: Path) -> None:
    size = 190_000
    count = MAX_BYTES // size + 2
    for i in range(count):
        (project / "src" / f"blob{i:02}.txt").write_text(("x" * 99 + "\n") * (size // 100))
    found = attach("all of @src/*.txt", project, max_bytes=200_000, cwd=project)
    assert sum(len(f.block) for f in found.files) <= MAX_BYTES + count * 100
    assert len(found.files) == MAX_BYTES // size
    capped = [why for _, why in found.refused]
    assert capped == [f"left out: the turn's files would pass {MAX_BYTES:,} bytes"] * (count - len(found.files))


def test_an_at_path_that_names_nothing_is_said_and_a_decorator_is_not(project: Path) -> None:
    s, _, _ = session(project)
    _, notes = ask(s, "why does @src/clac.py fail? it uses @property")
    assert any("@src/clac.py: no such file or folder in the project" in n for n in notes), notes
    assert not any("property" in n for n in notes)


@pytest.mark.parametrize(
    "text", ["@code/calc.py explain", "@local/notes.md explain", "@locals/x.py explain", "@claude.py explain"]
)
def test_a_prefix_is_a_whole_word_so_a_path_that_starts_like_one_is_a_path(text: str) -> None:
    # Before: `@code/calc.py` was the kind `code` and the text "/calc.py explain".
    parsed = parse_turn(text, ("local", "claude"))
    assert parsed.text == text and parsed.forced is None and parsed.kind is None


# -- windows -------------------------------------------------------------------------------


def big_file(root: Path, name: str, words: int) -> str:
    text = "\n".join(f"line{i} = {i}" for i in range(words // 3)) + "\n"
    (root / name).write_text(text)
    return text


def test_a_file_too_large_for_the_local_window_goes_to_a_backend_that_holds_it(project: Path) -> None:
    text = big_file(project, "big.py", 3000)
    s, claude, local = session(project, local={"window_tokens": 500})
    result, notes = ask(s, "explain @big.py")
    assert result.backend == "claude" and local.seen == []
    assert text in claude.seen[-1][-1].content
    assert any("big.py (" in n for n in notes)


def test_on_a_backend_whose_window_holds_some_files_those_go_in_and_the_rest_is_said(project: Path) -> None:
    big_file(project, "big.py", 3000)
    local = ScriptedBackend(["Local answer."], name="local", window_tokens=500)
    local.load()
    s = ChatSession(Config(), local, project_root=project)
    result, notes = ask(s, "compare @big.py with @src/calc.py")
    assert result.outcome == "ok"
    current = local.seen[-1][-1].content
    assert CALC in current and "line0 = 0" not in current
    said = " ".join(notes)
    assert "src/calc.py (" in said
    assert "big.py: " in said and "more than is left of the window" in said and "local" in said


def test_a_fallback_backend_holds_what_fits_it_and_says_so(project: Path) -> None:
    text = big_file(project, "big.py", 3000)
    overloaded = BackendError("Claude is overloaded", kind="overloaded")
    s, claude, local = session(project, local={"window_tokens": 500}, claude={"failures": [overloaded]})
    seen: list = []
    result = s.run_turn("compare @big.py with @src/calc.py", threading.Event(), seen.append)
    assert result.backend == "local" and result.fallback_from == "claude"
    assert text in claude.seen[-1][-1].content  # the first choice was sent every file
    current = local.seen[-1][-1].content
    assert CALC in current and "line0 = 0" not in current
    after = [e.text for e in seen[next(i for i, e in enumerate(seen) if isinstance(e, FallbackStarted)) :]
             if isinstance(e, Notice)]  # fmt: skip
    assert any("big.py: " in n and "more than is left of the window" in n for n in after), after


# -- privacy and the project's edges ----------------------------------------------------------


def test_a_secret_file_named_keeps_the_turn_off_the_cloud_even_over_claude(project: Path) -> None:
    (project / ".env").write_text("API_TOKEN=x\n")
    (project / "config").mkdir()
    (project / "config" / "prod.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (project / "config" / "app.toml").write_text("debug = false\n")
    s, claude, local = session(project)
    for text in ("@claude what is in @.env?", "@claude summarise @config/"):
        result, _ = ask(s, text)
        assert result.backend == "local" and result.decision.decided_by == "privacy", text
    assert claude.seen == []
    assert "API_TOKEN=x" in local.seen[0][-1].content  # it stays on this machine


def test_nothing_outside_the_project_is_ever_read(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE + "\n")
    (project / "link.txt").symlink_to(outside / "secret.txt")
    (project / "linked").symlink_to(outside)
    monkeypatch.setenv("HOME", str(outside))
    s, _, local = session(project)
    texts = ["read @link.txt and link.txt", "read @linked/ and @linked/*.txt", "read @../outside/secret.txt",
             "read @~/secret.txt and ~/secret.txt", f"read {outside / 'secret.txt'}", "read @~/"]
    for text in texts:
        _, notes = ask(s, text)
        assert OUTSIDE not in sent(local), text
    _, notes = ask(s, "read @link.txt")
    assert any("link.txt: leads outside the project through a symlink" in n for n in notes), notes
    _, notes = ask(s, "read @../outside/secret.txt")
    assert any("is outside the project" in n for n in notes), notes


def test_a_project_without_git_leaves_out_the_folders_of_tools(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "node_modules" / "lib" / "index.js").write_text("module.exports = 1\n")
    (root / "app.js").write_text("console.log(1)\n")
    found = attach("see @./", root, max_bytes=200_000, cwd=root)
    assert [f.path for f in found.files] == ["app.js"]


# -- the real SDK ------------------------------------------------------------------------------


def test_the_file_reaches_claudes_request_through_the_sdk(project: Path, fake: FakeAnthropic) -> None:
    fake.enqueue(Answer("It averages."))
    config = claude_config(fake.base_url).with_overrides({"router.fallback": []})
    backend = claude_from(config)
    backend.load()
    s = ChatSession(config, backend, project_root=project)
    result = s.run_turn("Explain @src/calc.py", threading.Event())
    assert result.outcome == "ok"
    (request,) = fake.message_requests()
    last = json.loads(request.body)["messages"][-1]
    text = last["content"] if isinstance(last["content"], str) else "".join(b["text"] for b in last["content"])
    assert last["role"] == "user" and CALC in text and text.endswith("Explain @src/calc.py")


# -- generated input -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["git", "no git"])
def odd_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A project with odd names (one that is not UTF-8), links out of it, and a secret
    outside; in a git repository (git lists its files) or not (they are walked)."""
    base = tmp_path_factory.mktemp("odd")
    root, outside = base / "project", base / "outside"
    for name in ("a.py", "sub/b.md", "app/[id]/page.tsx", "~home.py", "dots.in.name.cfg", "sp ace/x.py", "é/ü.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("inside\n")
    outside.mkdir()
    (outside / "secret.py").write_text(OUTSIDE + "\n")
    (root / "out.py").symlink_to(outside / "secret.py")
    (root / "outdir").symlink_to(outside)
    fd = os.open(os.fsencode(root / "sub") + b"/caf\xe9.py", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"latin\n")
    os.close(fd)
    if request.param == "git":
        git(root, "init", "-q")
    return root, outside


words = st.sampled_from(["@a.py", "a.py", "@sub/", "@sub/*", "@**/*.py", "@app/[id]/*", "@~/", "~", "~/a.py",
                         "@~home.py", "@outdir/", "@out.py", "out.py", "@../outside/secret.py", "@..", "@.",
                         "@/etc/passwd", "@\0", "@\ud800.py", "@sp", "@é/", "@[", "@*", "@**", "@property",
                         "~5/month,", "(see @sub/b.md).", "@sub/caf\udce9.py", "@" * 40,
                         "../" * 30 + "a.py"])  # fmt: skip
anything = st.text(st.characters(exclude_categories=()), max_size=20)  # surrogates and NUL included
sentences = st.lists(st.one_of(words, anything), max_size=12).map(" ".join)


@given(sentences)
def test_any_sentence_reads_only_project_files_and_never_raises(odd_project: tuple[Path, Path], text: str) -> None:
    root, _ = odd_project
    found = attach(text, root, max_bytes=200_000, cwd=root)
    real_root = os.path.realpath(root)
    for file in found.files:
        assert OUTSIDE not in file.block
        assert os.path.realpath(root / file.path).startswith(real_root + os.sep)
        assert file.path.isprintable()
    assert set(f.path for f in found.files) <= set(found.named)
    for line in said(found, None):  # what the UI and `ask` print: one clean line each
        assert "\n" not in line and clean_text(line) == line


def test_a_name_that_is_not_utf8_is_left_out_with_a_note(odd_project: tuple[Path, Path]) -> None:
    root, _ = odd_project
    found = attach("look at @sub/", root, max_bytes=200_000, cwd=root)
    assert [f.path for f in found.files] == ["sub/b.md"]
    assert [why for _, why in found.refused] == ["its name is not valid UTF-8"]


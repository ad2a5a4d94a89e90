"""`assistant refactor` as a person types it: paths relative to where they stand,
names with spaces and brackets, outside text that looks like Rich markup, and the
files it will write named before it writes (issue 10, items 3, 5, 6, 11g)."""

from __future__ import annotations

import argparse
import io
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from assistant.backends.scripted import ScriptedBackend
from assistant.core.session.chat import ChatSession
from assistant.core.config import Config
from assistant.core.events import BackendError
from assistant.core.store.ledger import Ledger
from assistant.cli.refactor import EXIT_DECLINED, cmd_refactor, cmd_undo
from tests.core.edits.gitrepo import git, make_repo


def config() -> Config:
    base = Config()
    return replace(base, edits=replace(base.edits, whole_file_backends=()))


def block(name: str, search: str, replace_: str) -> str:
    return f"{name}\n<<<<<<< SEARCH\n{search}=======\n{replace_}>>>>>>> REPLACE\n"


def refactor(
    root: Path, answers: list[str], *paths: str, failures=(), allow_new: bool = False
) -> tuple[int, str, ScriptedBackend]:
    """Run `assistant refactor PATH… -m … --yes` with a scripted model, from the cwd."""
    backend = ScriptedBackend(answers, name="local", failures=failures)
    session = ChatSession(config(), backend, ledger=Ledger.open, project_root=root)
    out = io.StringIO()
    args = argparse.Namespace(paths=list(paths), message="tidy", yes=True, allow_new=allow_new)
    code = cmd_refactor(config(), args, session=session, console=Console(file=out, width=200))
    return code, out.getvalue(), backend


def commits(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


# -- item 3: where the user stands -----------------------------------------------------


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "proj", {"target.py": "v = 1\n"})
    (root / "sub").mkdir()
    (root / "sub" / "target.py").write_text("v = 1\n")
    (root / "sub" / "inner.py").write_text("z = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "sub")
    return root


class Echo(ScriptedBackend):
    """Edits the file the prompt shows, by the name the prompt gives it (as a model does)."""

    def stream(self, messages, cancel):
        name = messages[-1].content.split("\n", 1)[0]
        self.answers, self._turn = [block(name, "v = 1\n", "v = 2\n")], 0
        yield from super().stream(messages, cancel)


def test_a_path_typed_in_a_subfolder_is_that_folders_file(nested: Path, monkeypatch) -> None:
    """Was: the root's target.py was edited and committed."""
    monkeypatch.chdir(nested / "sub")
    session = ChatSession(config(), Echo(name="local"), ledger=Ledger.open, project_root=nested)
    out = io.StringIO()
    args = argparse.Namespace(paths=["target.py"], message="tidy", yes=True, allow_new=False)
    assert cmd_refactor(config(), args, session=session, console=Console(file=out, width=200)) == 0
    assert (nested / "target.py").read_text() == "v = 1\n"
    assert (nested / "sub" / "target.py").read_text() == "v = 2\n"
    assert commits(nested)[0].startswith("refactor(sub/target.py)")
    assert "will write: sub/target.py" in out.getvalue()


def test_a_file_of_the_current_folder_is_found(nested: Path, monkeypatch) -> None:
    """Was: "inner.py: no such file"."""
    monkeypatch.chdir(nested / "sub")
    code, out, _ = refactor(nested, [block("sub/inner.py", "z = 1\n", "z = 2\n")], "inner.py")
    assert code == 0, out
    assert (nested / "sub" / "inner.py").read_text() == "z = 2\n"


def test_an_absolute_path_inside_the_project_is_accepted(nested: Path, monkeypatch) -> None:
    monkeypatch.chdir(nested / "sub")
    target = str(nested / "sub" / "inner.py")
    code, out, _ = refactor(nested, [block("sub/inner.py", "z = 1\n", "z = 2\n")], target)
    assert code == 0, out
    assert (nested / "sub" / "inner.py").read_text() == "z = 2\n"


def test_a_path_outside_the_project_is_one_line_before_any_model_call(
    nested: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    (tmp_path / "elsewhere.py").write_text("q = 1\n")
    monkeypatch.chdir(nested / "sub")
    code, _, backend = refactor(nested, ["never"], "../../elsewhere.py")
    err = capsys.readouterr().err
    assert code == 2 and backend.seen == []
    assert err.startswith("assistant: ") and err.count("\n") == 1 and "outside the project" in err


def test_undo_from_a_subfolder_undoes_in_the_repository(nested: Path, monkeypatch) -> None:
    monkeypatch.chdir(nested / "sub")
    refactor(nested, [block("sub/inner.py", "z = 1\n", "z = 2\n")], "inner.py")
    assert cmd_undo(config()) == 0
    assert (nested / "sub" / "inner.py").read_text() == "z = 1\n"


# -- item 5: outside text is never markup ----------------------------------------------


def test_a_reply_that_looks_like_markup_is_printed_as_text(tmp_path: Path, monkeypatch) -> None:
    """Was: MarkupError for `[/oops]` (the SEARCH's first line is in the error)."""
    root = make_repo(tmp_path / "proj", {"calc.py": "x = 1\n"})
    monkeypatch.chdir(root)
    bad = block("calc.py", "[/oops] [bold]nothing like this\n", "y\n")
    code, out, _ = refactor(root, [bad, bad], "calc.py")
    assert code == 1
    assert "[/oops] [bold]nothing like this" in out


def test_a_backend_error_in_brackets_is_shown_whole(tmp_path: Path, monkeypatch) -> None:
    root = make_repo(tmp_path / "proj", {"calc.py": "x = 1\n"})
    monkeypatch.chdir(root)
    failure = BackendError("[overloaded_error] try later [/oops]", kind="server")
    code, out, _ = refactor(root, ["unused"], "calc.py", failures=[failure])
    assert code == 1
    assert "[overloaded_error] try later [/oops]" in out


def test_a_batch_with_bracketed_names_names_them_whole(tmp_path: Path, monkeypatch) -> None:
    files = {"app/[id]/page.tsx": "const a = 1\n", "app/[bold]x.ts": "const b = 1\n"}
    root = tmp_path / "proj"
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
    make_repo(root, files)
    monkeypatch.chdir(root)

    class PerFile(ScriptedBackend):
        def stream(self, messages, cancel):
            name = next(n for n in files if n in messages[-1].content)
            self.answers, self._turn = [block(name, files[name], files[name].replace("1", "2"))], 0
            yield from super().stream(messages, cancel)

    backend = PerFile(name="local")
    session = ChatSession(config(), backend, ledger=Ledger.open, project_root=root)
    out = io.StringIO()
    args = argparse.Namespace(paths=list(files), message="two", yes=True, allow_new=False)
    code = cmd_refactor(config(), args, session=session, console=Console(file=out, width=200))
    text = out.getvalue()
    assert code == 0, text
    assert "applied app/[id]/page.tsx" in text and "applied app/[bold]x.ts" in text
    assert text.count("app/[id]/page.tsx") >= 3  # the rule, the diff, the table
    assert (root / "app/[id]/page.tsx").read_text() == "const a = 2\n"


# -- item 6: names with spaces and brackets ---------------------------------------------


@pytest.mark.parametrize("name", ["docs/my notes.md", "app/[id]/page.tsx", "a (copy), {x}.py"])
def test_a_file_with_spaces_or_brackets_is_refactored_and_committed(tmp_path: Path, monkeypatch, name: str) -> None:
    """Was: "block 1 has no file name", after a paid retry."""
    root = tmp_path / "proj"
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    make_repo(root, {name: "old line\n"})
    monkeypatch.chdir(root)
    code, out, backend = refactor(root, [block(name, "old line\n", "new line\n")], name)
    assert code == 0, out
    assert len(backend.seen) == 1  # no retry
    assert name in backend.seen[0][-1].content
    assert (root / name).read_text() == "new line\n"
    assert git(root, "status", "--porcelain") == ""
    assert commits(root)[0].startswith("refactor(")


# -- item 11g: only the files named are written -----------------------------------------


def test_an_edit_of_a_file_not_named_is_refused_for_that_file(tmp_path: Path, monkeypatch) -> None:
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    monkeypatch.chdir(root)
    answer = block("a.py", "a = 1\n", "a = 2\n") + block("b.py", "b = 1\n", "b = 2\n")
    code, out, _ = refactor(root, [answer], "a.py")
    assert code == 0, out
    assert (root / "a.py").read_text() == "a = 2\n" and (root / "b.py").read_text() == "b = 1\n"
    assert "not written: b.py" in out and "will write: a.py\n" in out
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == ["a.py"]


def test_a_new_file_not_named_needs_allow_new(tmp_path: Path, monkeypatch) -> None:
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})
    monkeypatch.chdir(root)
    answer = block("a.py", "a = 1\n", "a = 2\n") + block("docs/new.md", "", "# new\n")
    code, out, _ = refactor(root, [answer], "a.py")
    assert code == 0, out
    assert not (root / "docs").exists()
    assert "not written: docs/new.md: a new file you did not name (--allow-new allows it)" in out
    assert "will write: a.py\n" in out

    git(root, "reset", "-q", "--hard", "HEAD~1")
    code, out, _ = refactor(root, [answer], "a.py", allow_new=True)
    assert code == 0, out
    assert "will write: a.py, docs/new.md (new)" in out
    assert (root / "docs" / "new.md").read_text() == "# new\n"
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").split()) == ["a.py", "docs/new.md"]


def test_the_question_names_every_file_it_will_write(tmp_path: Path, monkeypatch) -> None:
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})
    monkeypatch.chdir(root)
    asked: list[str] = []
    monkeypatch.setattr("assistant.cli.refactor.confirm", lambda q: asked.append(q) or False)
    answer = block("a.py", "a = 1\n", "a = 2\n") + block("new.py", "", "n = 1\n")
    backend = ScriptedBackend([answer], name="local")
    session = ChatSession(config(), backend, ledger=Ledger.open, project_root=root)
    args = argparse.Namespace(paths=["a.py"], message="m", yes=False, allow_new=True)
    assert cmd_refactor(config(), args, session=session, console=Console(file=io.StringIO())) == EXIT_DECLINED
    assert asked == ["Apply to a.py, new.py (new)? [y/N] "]
    assert (root / "a.py").read_text() == "a = 1\n"


def test_a_proposal_of_only_unnamed_files_applies_nothing(tmp_path: Path, monkeypatch) -> None:
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    monkeypatch.chdir(root)
    code, out, _ = refactor(root, [block("b.py", "b = 1\n", "b = 2\n")], "a.py")
    assert code == 1 and "only files you did not name" in out
    assert (root / "b.py").read_text() == "b = 1\n" and len(commits(root)) == 1

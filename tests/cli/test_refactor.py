"""`assistant refactor` on several files at once (a batch) with scripted backends,
and `assistant undo`, in a real git repository."""

from __future__ import annotations

import argparse
import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from assistant.backends.scripted import ScriptedBackend
from assistant.core.session.chat import ChatSession
from assistant.core.config import Config
from assistant.core.store.ledger import Ledger
from assistant.cli.refactor import cmd_refactor, cmd_undo
from tests.core.edits.gitrepo import git, make_repo

FILES = {f"m{i}.py": f"def f{i}(x):\n    return x+{i}\n" for i in range(4)}


def block(name: str, i: int) -> str:
    return (f"{name}\n<<<<<<< SEARCH\n    return x+{i}\n=======\n    return x + {i}\n>>>>>>> REPLACE\n")


class PerFile(ScriptedBackend):
    """Answers with the block for whichever file the prompt is about; one file fails."""

    def stream(self, messages, cancel):
        prompt = messages[-1].content
        name = next(n for n in FILES if n in prompt)
        i = int(name[1])
        self.answers = ["no edit here, sorry"] if i == 2 else [block(name, i)]
        self._turn = 0
        yield from super().stream(messages, cancel)


def test_a_batch_applies_each_file_in_its_own_commit_and_reports_a_table(tmp_path: Path, monkeypatch) -> None:
    root = make_repo(tmp_path / "proj", FILES)
    monkeypatch.chdir(root)

    config = Config()
    config = replace(config, edits=replace(config.edits, whole_file_backends=()))
    backend = PerFile(name="local", delay=0.001)
    session = ChatSession(config, backend, ledger=Ledger.open, project_root=root, batch=True)
    out = io.StringIO()
    args = argparse.Namespace(paths=list(FILES), message="add spaces around +", yes=True)
    code = cmd_refactor(config, args, session=session, console=Console(file=out, width=160))
    text = out.getvalue()
    assert code == 1  # one file failed; the others were applied
    for name, original in FILES.items():
        now = (root / name).read_text()
        if name == "m2.py":
            assert now == original
        else:
            assert now == original.replace("+", " + ")
    subjects = git(root, "log", "--format=%s").splitlines()
    assert len(subjects) == 1 + 3 and all(s.startswith("refactor(m") for s in subjects[:3])
    rows = text[text.index("file  "):].splitlines()  # in a file: a header, then one plain row per file
    assert [row.split()[0] for row in rows] == ["file", *FILES] and "failed" in rows[3]
    assert all(row.split()[2] == "applied" for row in rows[1:] if not row.startswith("m2.py"))

    assert cmd_undo(config) == 0  # the last commit only
    assert len(git(root, "log", "--format=%s").splitlines()) == 5


def test_a_batch_with_json_prints_each_file_s_outcome_as_json_and_nothing_else(tmp_path: Path, monkeypatch,
                                                                             capsys) -> None:  # noqa: ANN001
    import json

    import jsonschema

    from tests.cli.test_ask_json import SCHEMA

    root = make_repo(tmp_path / "proj", FILES)
    monkeypatch.chdir(root)
    config = Config()
    config = replace(config, edits=replace(config.edits, whole_file_backends=()))
    session = ChatSession(config, PerFile(name="local", delay=0.001), ledger=Ledger.open, project_root=root, batch=True)
    args = argparse.Namespace(paths=list(FILES), message="add spaces around +", yes=True, json=True)
    assert cmd_refactor(config, args, session=session, console=Console(file=io.StringIO())) == 1
    out = json.loads(capsys.readouterr().out)
    jsonschema.validate(out, SCHEMA)
    assert out["version"] == 1 and [f["file"] for f in out["files"]] == list(FILES)
    by_file = {f["file"]: f for f in out["files"]}
    assert by_file["m2.py"]["outcome"] == "failed" and by_file["m2.py"]["error"] and by_file["m2.py"]["commit"] is None
    applied = [f for f in out["files"] if f["outcome"] == "applied"]
    assert len(applied) == 3 and all(f["commit"] and f["backend"] == "local" and f["tokens_out"] > 0 for f in applied)
    assert all(f["checks"][0] == {"name": "syntax", "status": "passed"} for f in applied)

"""Every turn can be taken back (issue 28): a task that edits two files, makes one with
a command and deletes one is rewound byte for byte, in git and in a plain folder, with
the conversation after it; /redo brings both back; the user's own changes survive."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from assistant.core.session.rewind import RewindError
from assistant.core.store import saved_sessions
from assistant.core.store.ledger import Ledger
from assistant.core.tool_calls import ToolCall, call_arguments
from tests.core.edits.test_vcs import make_repo

FILES = {"a.py": "x = 1\n", "b.py": "y = 2\r\nz = 3\r\n", "gone.txt": "delete me\n", "keep.txt": "untouched\n"}


def call(name: str, n: int, **arguments: object) -> ToolCall:
    return ToolCall(f"c{n}", name, call_arguments(arguments))


def hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.relative_to(root).parts}  # fmt: skip


def make_project(tmp_path: Path, kind: str) -> Path:
    """The project every rewind test starts from, in a git repository or a plain folder."""
    root = tmp_path / "proj"
    if kind == "git":
        make_repo(root, FILES)
    else:
        root.mkdir()
        for name, text in FILES.items():
            (root / name).write_bytes(text.encode())
    return root


@pytest.fixture(params=["git", "plain"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return make_project(tmp_path, request.param)


def task_script() -> list[object]:
    return [
        "Hello, I am here.",  # the chat turn before the task
        call("read", 0, path="a.py"), call("edit", 1, path="a.py", old="x = 1", new="x = 10"),
        call("read", 2, path="b.py"), call("edit", 3, path="b.py", old="y = 2", new="y = 20"),
        call("run", 4, command="echo made > made.txt"), call("run", 5, command="rm gone.txt"),
        "Done: edited a.py and b.py, made made.txt, removed gone.txt.",
        "The chat turn after the task.",
    ]  # fmt: skip


def chat(root: Path, backend: ScriptedBackend) -> ChatSession:
    config = Config().with_overrides({"general.backend": backend.name, "tools.mode": "auto"})
    backend.load()
    return ChatSession(config, backend, ledger=Ledger.open, project_root=root, persist=True)


def newest_rating(turn_id: int | None) -> tuple[str, str] | None:
    rows = Ledger.open().query("", "SELECT verdict, source FROM ratings WHERE turn_id = ? ORDER BY id DESC LIMIT 1",
                               [turn_id])  # fmt: skip
    return tuple(rows[0]) if rows else None


def run_the_three_turns(root: Path) -> ChatSession:
    s = chat(root, ScriptedBackend(task_script(), name="local", tool_calls=True))
    s.run_turn("hi", threading.Event())
    result = s.act("change the files", threading.Event())
    assert result.end == "answered", result.reason
    s.run_turn("and now?", threading.Event())
    return s


def test_a_task_is_rewound_byte_for_byte_with_its_conversation_and_redo_brings_both_back(project: Path) -> None:
    before = hashes(project)
    s = run_the_three_turns(project)
    after = hashes(project)
    assert "made.txt" in after and "gone.txt" not in after and after["a.py"] != before["a.py"]
    points = s.rewinds.points(s.session_id)
    assert [p.kind for p in points] == ["chat", "task", "chat"]
    changes = {c.path: (c.change, c.by) for c in points[1].changes}
    assert changes == {"a.py": ("changed", "edit"), "b.py": ("changed", "edit"), "made.txt": ("added", "command"),
                       "gone.txt": ("deleted", "command")}  # fmt: skip

    preview = s.rewinds.preview(s.session_id, 2, "both")
    assert {step.path for step in preview.plan.steps} == {"a.py", "b.py", "made.txt", "gone.txt"}
    assert preview.chat_leaving == 2 and not preview.plan.kept
    s.rewinds.rewind(preview)
    assert hashes(project) == before
    assert [e.user.content for e in s.exchanges] == ["hi"]
    assert [item.exchange.user.content for item in saved_sessions.load(Ledger.open(), s.session_id).exchanges] == ["hi"]
    if (project / ".git").exists():
        assert subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout == ""

    task_turn = points[1].checkpoint.turn_id
    assert newest_rating(task_turn) == ("bad", "rewind")  # a rewound task was not kept
    [task] = Ledger.open().tasks()
    assert task.undone_at is not None

    redone = s.rewinds.redo(s.session_id)
    assert hashes(project) == after and redone.chat_moved == 2
    assert newest_rating(task_turn) == ("none", "rewind") and Ledger.open().tasks()[0].undone_at is None
    assert [e.user.content for e in s.exchanges] == ["hi", "change the files", "and now?"]
    assert len(saved_sessions.load(Ledger.open(), s.session_id).exchanges) == 3
    with pytest.raises(RewindError, match="no rewind to redo"):
        s.rewinds.redo(s.session_id)


def test_the_users_change_after_the_checkpoint_survives_and_the_preview_names_it(project: Path) -> None:
    before = hashes(project)
    s = run_the_three_turns(project)
    (project / "a.py").write_text("x = 10  # mine now\n")  # changed by the task, then by the user
    (project / "keep.txt").write_text("my own work\n")  # never touched by the task
    preview = s.rewinds.preview(s.session_id, 2, "files")
    assert {k.path for k in preview.plan.kept} == {"a.py", "keep.txt"}
    assert {k.path: k.touched for k in preview.plan.kept} == {"a.py": True, "keep.txt": False}
    s.rewinds.rewind(preview)
    now = hashes(project)
    assert (project / "a.py").read_text() == "x = 10  # mine now\n" and (project / "keep.txt").read_text() == "my own work\n"
    assert {p: h for p, h in now.items() if p not in ("a.py", "keep.txt")} == {
        p: h for p, h in before.items() if p not in ("a.py", "keep.txt")}
    assert [e.user.content for e in s.exchanges] == ["hi", "change the files", "and now?"]  # files only


def test_unless_the_user_says_otherwise(project: Path) -> None:
    before = hashes(project)
    s = run_the_three_turns(project)
    (project / "keep.txt").write_text("my own work\n")
    s.rewinds.rewind(s.rewinds.preview(s.session_id, 2, "files", keep_mine=False))
    assert hashes(project) == before


def test_a_user_change_between_two_turns_is_what_the_file_goes_back_to(project: Path) -> None:
    script = ["first", call("edit", 0, path="keep.txt", old="untouched", new="task one"), "one",
              call("read", 1, path="keep.txt"), call("edit", 2, path="keep.txt", old="mine", new="task two"), "two"]
    s = chat(project, ScriptedBackend(script, name="local", tool_calls=True))
    s.run_turn("hi", threading.Event())
    s.act("one", threading.Event())
    (project / "keep.txt").write_text("mine\n")  # between the two tasks
    s.act("two", threading.Event())
    assert (project / "keep.txt").read_text() == "task two\n"
    preview = s.rewinds.preview(s.session_id, 2, "files")
    [step] = preview.plan.steps
    assert step.path == "keep.txt" and step.mine == 0
    s.rewinds.rewind(preview)
    assert (project / "keep.txt").read_text() == "mine\n"


def test_undo_is_the_rewind_of_the_last_turn_that_changed_files(project: Path) -> None:
    from assistant.core.workflows.refactor import undo_edit

    before = hashes(project)
    s = run_the_three_turns(project)
    said = undo_edit(project, "snapshot", Ledger.open, s.rewinds)
    assert said.startswith("undid the last change") and hashes(project) == before
    assert [e.user.content for e in s.exchanges] == ["hi", "change the files", "and now?"]
    [task] = Ledger.open().tasks()
    assert task.undone_at is not None


KILLED_REWIND = """
import sys
from pathlib import Path
from assistant.core.config import Config
from assistant.core.session.rewind import Rewinder
from assistant.core.store.ledger import Ledger
ledger = Ledger.open()
rewinder = Rewinder(Path(sys.argv[1]), Config(), lambda: ledger)
preview = rewinder.preview(sys.argv[2], 2, "both")
print("ready", flush=True)
rewinder.rewind(preview)
print("done", flush=True)
"""


def test_a_rewind_killed_anywhere_is_finished_or_said_to_have_changed_nothing(project: Path) -> None:
    import os
    import random
    import signal
    import sys

    from assistant.core.session.rewind import Rewinder
    from assistant.core.store import rewinds

    before = hashes(project)
    s = run_the_three_turns(project)
    after = hashes(project)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    rng, outcomes = random.Random(7), set()

    def start() -> subprocess.Popen[str]:
        child = subprocess.Popen([sys.executable, "-c", KILLED_REWIND, str(project), s.session_id], env=env,
                                 stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        return child

    began = time.monotonic()  # a whole rewind, unkilled: the kills are spread over as long
    whole = start()
    assert whole.communicate(timeout=60)[0].strip() == "done" and hashes(project) == before
    span = time.monotonic() - began
    s.rewinds.redo(s.session_id)
    for _ in range(8):
        child = start()
        time.sleep(rng.uniform(0, span))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        said = Rewinder(project, Config(), Ledger.open).finish_interrupted()
        outcomes.add("finished now" if said and "was finished" in said else "")
        last = rewinds.rewinds(Ledger.open(), session_id=s.session_id)[-1]
        stored = len(saved_sessions.load(Ledger.open(), s.session_id).exchanges)
        if last.state == "done":  # finished (by the child, or now from its journal): files and chat back
            assert hashes(project) == before and stored == 1
            s.rewinds.redo(s.session_id)
        else:  # killed before any file changed: nothing was
            assert last.state == "abandoned" and said and "changed nothing" in said
            assert hashes(project) == after and stored == 3
        assert hashes(project) == after
        outcomes.add(last.state)
    assert outcomes & {"done", "abandoned"}  # each round ended one of the two ways above


def test_old_checkpoints_are_pruned_by_the_setting_and_the_newest_stay(project: Path) -> None:
    from assistant.core.session.rewind import Rewinder

    config = Config().with_overrides({"checkpoints.keep": 5})
    rewinder = Rewinder(project, config, Ledger.open)
    for n in range(16):
        turn = rewinder.before_turn("s1", "refactor", f"edit {n}")
        assert turn is not None
        (project / "a.py").write_text(f"x = {n}\n")
        turn.end(edited=["a.py"])
    points = rewinder.points("s1")
    assert len(points) == 16  # the ledger keeps every turn; the store, the newest ones' files
    with pytest.raises(RewindError, match="pruned"):
        rewinder.preview("s1", 1, "files")
    preview = rewinder.preview("s1", 12, "files")
    rewinder.rewind(preview)
    assert (project / "a.py").read_text() == "x = 10\n"


def test_a_task_in_a_project_too_large_to_checkpoint_says_so_and_goes_on(project: Path) -> None:
    from assistant.core.events import Notice

    backend = ScriptedBackend([call("read", 0, path="a.py"), "x is 1."], name="local", tool_calls=True)
    config = Config().with_overrides({"general.backend": "local", "checkpoints.max_files": 2})
    backend.load()
    s = ChatSession(config, backend, ledger=Ledger.open, project_root=project, persist=True)
    events: list[object] = []
    assert s.act("what is x?", threading.Event(), events.append).end == "answered"
    [said] = [e.text for e in events if isinstance(e, Notice) and "checkpoint" in e.text]
    assert "/rewind cannot take it back" in said and "max_files" in said

"""Issue 24 item 9: a process killed between writing an edit and committing it. Was: the
next edit committed the app's bytes as the user's "snapshot before edit", and no undo
reached them. Now the record in the git directory (core/edits/pending.py) names the
edit, and the next edit, undo or `ready` commits it as the app's edit or takes it back.

The kill lands at its point by construction, not by timing: the child pauses there
(after the write returned, before `git commit`, between two renames) and says so; the
parent then kills it with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import assistant
from assistant.core.edits import pending
from assistant.core.edits.files import apply_changes, written_bytes
from assistant.core.edits.pending import PendingCommit, PendingFile, PendingUnreadable, settle
from assistant.core.edits.types import FileChange
from assistant.core.edits.vcs import SNAPSHOT_SUBJECT, TRAILER_BACKEND, Provenance, Workspace
from tests.core.edits.gitrepo import git, make_repo
from tests.patience import PATIENCE

REPO = Path(assistant.__file__).resolve().parent.parent
ORIGINAL = {"a.py": "a = 1\n", "b.py": "b = 1\n"}
FIRST = {"a.py": "a = 2  # the app's\n", "b.py": "b = 2  # the app's\n"}

# Applies FIRST through Workspace.apply and files.apply_changes, as the app does, and
# pauses at argv[2]: "after-write" (the write returned), "before-commit" (`git add` done,
# `git commit` not), "between-renames" (one file renamed into place, the other not).
CHILD = """
import json, os, sys, time
from pathlib import Path
from assistant.core.edits import vcs
from assistant.core.edits.files import apply_changes
from assistant.core.edits.types import FileChange
root, where, after = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
def pause():
    print(f"paused {where}", flush=True)
    time.sleep(600)
if where == "between-renames":
    replace, renamed = os.replace, []
    def counting(source, target, **kwargs):
        if ".git" not in Path(target).parts:  # the record is written by a rename too
            if renamed:
                pause()
            renamed.append(target)
        return replace(source, target, **kwargs)
    os.replace = counting
if where == "before-commit":
    run = vcs._Git.run
    def pausing(self, *args, **kwargs):
        if args[0] == "commit":
            pause()
        return run(self, *args, **kwargs)
    vcs._Git.run = pausing
def write(changes):
    apply_changes(root, changes)
    if where == "after-write":
        pause()
changes = [FileChange(n, (root / n).read_text() if (root / n).exists() else None, text) for n, text in after.items()]
vcs.Workspace(root).apply(changes, vcs.Provenance("local", "scripted-model", 0.0, "first"), write)
print("done: not paused", flush=True)
"""


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", ORIGINAL)


def killed_at(root: Path, where: str, after: dict[str, str] = FIRST) -> None:
    """Run the child until it pauses at `where`, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), where, json.dumps(after)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stderr is not None
        said = child.stdout.readline().decode().strip()
        assert said == f"paused {where}", said or child.stderr.read().decode()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=PATIENCE)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def subjects(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


def texts(root: Path) -> dict[str, str]:
    return {name: (root / name).read_text() for name in ORIGINAL}


def trailers(root: Path, rev: str) -> str:
    return git(root, "log", "-1", "--format=%(trailers)", rev)


def no_snapshot_holds_the_apps_bytes(root: Path) -> None:
    for line in git(root, "log", "--format=%H %s").splitlines():
        sha, subject = line.split(" ", 1)
        if subject.startswith(SNAPSHOT_SUBJECT):
            for name, text in FIRST.items():
                assert git(root, "show", f"{sha}:{name}") != text, f"{subject} holds the app's {name}"


def change(root: Path, name: str, after: str) -> FileChange:
    return FileChange(name, (root / name).read_text(), after)


def writer(root: Path):  # noqa: ANN201
    return lambda changes: apply_changes(root, changes)


def test_killed_after_the_write_the_next_edit_commits_it_as_the_apps_edit_and_undo_reaches_it(root: Path) -> None:
    killed_at(root, "after-write")
    assert texts(root) == FIRST and subjects(root) == ["init"]  # written, not committed

    second = Provenance("local", "scripted-model", 0.0, "second")
    Workspace(root).apply([change(root, "a.py", "a = 3\n")], second, writer(root))

    assert subjects(root) == ["refactor(a.py): second", "refactor(a.py, b.py): first", "init"]
    assert f"{TRAILER_BACKEND}: local" in trailers(root, "HEAD~1")
    no_snapshot_holds_the_apps_bytes(root)
    assert not (root / ".git" / pending.PENDING).exists()
    assert git(root, "status", "--porcelain") == ""

    Workspace(root).undo()
    said = Workspace(root).undo()
    assert said.startswith("undid") and "first" in said
    assert texts(root) == ORIGINAL


def test_killed_before_git_commit_the_next_ready_commits_it(root: Path) -> None:
    killed_at(root, "before-commit")
    assert git(root, "diff", "--cached", "--name-only").split() == ["a.py", "b.py"]  # staged by the kill

    said = Workspace(root).ready(["a.py"])

    assert len(said) == 1 and said[0].startswith("committed an edit a crash interrupted before its commit")
    assert subjects(root) == ["refactor(a.py, b.py): first", "init"]
    assert f"{TRAILER_BACKEND}: local" in trailers(root, "HEAD")
    assert git(root, "status", "--porcelain") == ""
    assert "first" in Workspace(root).undo() and texts(root) == ORIGINAL


def test_killed_after_the_write_undo_first_commits_the_edit_then_takes_it_back(root: Path) -> None:
    killed_at(root, "after-write")
    ws = Workspace(root)
    assert ws.last_edit_id() == git(root, "rev-parse", "HEAD").strip()  # the interrupted edit, committed
    said = ws.undo()
    assert "committed an edit a crash interrupted" in said and "undid" in said
    assert texts(root) == ORIGINAL
    assert subjects(root) == ["undo: refactor(a.py, b.py): first", "refactor(a.py, b.py): first", "init"]


def test_killed_between_two_renames_the_written_file_is_put_back(root: Path) -> None:
    killed_at(root, "between-renames")
    state = texts(root)
    assert sorted(state.values()) == sorted([ORIGINAL["a.py"], FIRST["b.py"]]) or sorted(state.values()) == sorted(
        [FIRST["a.py"], ORIGINAL["b.py"]]
    ), state  # one file of the edit written, the other not

    said = Workspace(root).ready()

    assert len(said) == 1 and said[0].startswith("took back an edit a crash interrupted before its commit")
    assert texts(root) == ORIGINAL and subjects(root) == ["init"]
    assert git(root, "status", "--porcelain") == ""


def test_a_file_changed_since_the_kill_is_left_as_it_is_and_the_other_put_back(root: Path) -> None:
    killed_at(root, "after-write")
    (root / "b.py").write_text("b = 2  # the app's, then mine\n")

    said = Workspace(root).ready()

    assert "took back" in said[0] and "left as it is (changed since): b.py" in said[0]
    assert texts(root) == {"a.py": ORIGINAL["a.py"], "b.py": "b = 2  # the app's, then mine\n"}
    assert subjects(root) == ["init"]


def test_a_new_file_the_kill_left_half_an_edit_of_is_removed(root: Path) -> None:
    killed_at(root, "between-renames", after={"new.py": "n = 1\n", "a.py": "a = 2\n"})
    assert (root / "new.py").exists() and texts(root) == ORIGINAL  # renamed first, a.py not yet
    Workspace(root).ready()
    assert not (root / "new.py").exists() and texts(root) == ORIGINAL
    assert git(root, "status", "--porcelain") == ""


def test_an_unreadable_record_is_removed_with_one_line(root: Path) -> None:
    (root / ".git" / pending.PENDING).write_bytes(b"\xff not json")
    said = Workspace(root).ready()
    assert len(said) == 1 and said[0].startswith("removed ") and "\n" not in said[0]
    assert not (root / ".git" / pending.PENDING).exists()


# -- the record and its settlement, for any state the disk can be in --------------------

SHA = st.text("0123456789abcdef", min_size=64, max_size=64)
NAME = st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}\.py", fullmatch=True)


@st.composite
def records(draw: st.DrawFn) -> PendingCommit:
    names = draw(st.lists(NAME, min_size=1, max_size=5, unique=True))
    files = []
    for name in names:
        before = draw(st.none() | SHA)
        after = draw(SHA.filter(lambda h: h != before))
        files.append(PendingFile(name, before, after))
    head = draw(st.none() | st.text("0123456789abcdef", min_size=40, max_size=40))
    return PendingCommit(head, draw(st.text(min_size=1).filter(str.strip)), tuple(files))


@given(records(), st.data())
def test_settling_never_touches_a_file_that_does_not_hold_the_edits_bytes(
    record: PendingCommit, data: st.DataObject
) -> None:
    now = {}
    for f in record.files:
        now[f.path] = data.draw(st.sampled_from([f.before, f.after, None, "other"]))
    verdict = settle(record, now)
    at_after = {f.path for f in record.files if now[f.path] == f.after}
    at_before = {f.path for f in record.files if now[f.path] == f.before}
    assert (verdict.action == "finish") == (len(at_after) == len(record.files))
    if verdict.action == "revert":
        assert set(verdict.put_back) == at_after  # only the edit's own bytes are put back
        assert set(verdict.kept) == {f.path for f in record.files} - at_after - at_before
    elif verdict.action == "drop":
        assert at_before == {f.path for f in record.files}


@given(records())
def test_a_record_reads_back_as_written(record: PendingCommit) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        pending.record(Path(folder), record)
        assert pending.read(Path(folder)) == record


@given(st.binary(max_size=300) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
).map(lambda body: json.dumps(body).encode()))  # fmt: skip
def test_anything_else_in_the_records_place_is_unreadable_never_a_crash(raw: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / pending.PENDING).write_bytes(raw)
        try:
            found = pending.read(Path(folder))
        except PendingUnreadable:
            return
        assert isinstance(found, PendingCommit)


def test_a_record_naming_a_path_outside_the_work_tree_is_unreadable(tmp_path: Path) -> None:
    for path in ("../x.py", "/etc/passwd", ".git/config", "a/../../x"):
        body = {"version": 1, "head": None, "message": "m", "files": [[path, None, "0" * 64]]}
        (tmp_path / pending.PENDING).write_text(json.dumps(body))
        with pytest.raises(PendingUnreadable):
            pending.read(tmp_path)


@given(
    st.lists(st.sampled_from(["x", "é", " ", "\t"]), max_size=20).map("".join),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0\r"), max_size=40),
)
def test_written_bytes_are_the_bytes_the_write_leaves(
    body: str, newline: str, bom: bool, final: bool, after: str
) -> None:
    """What the record names as the edit's bytes is what apply_changes writes: the file's
    line endings, BOM and final newline kept."""
    import tempfile

    text = newline.join([body, body]) + (newline if final else "")
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "f.txt").write_bytes(raw)
        change = FileChange("f.txt", raw.decode("utf-8-sig"), after)
        expected = written_bytes(root, change)
        apply_changes(root, [change])
        assert (root / "f.txt").read_bytes() == expected
        assert written_bytes(root, FileChange("g.txt", None, after)) == after.encode()

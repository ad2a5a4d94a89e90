"""Reading and writing a model's file changes with byte fidelity: an edit changes the
bytes of its span and nothing else (line endings, BOM, encoding, final newline, mode)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import assistant
from assistant.core.edits import files
from assistant.core.edits.files import (
    Applied,
    TextFile,
    apply_changes,
    cleanup_pending,
    encode,
    normalise,
    read_file,
    resolve,
    write_atomic,
)
from assistant.core.edits.types import EditError, FileChange, FileRefused, UnsafePath
from tests.patience import PATIENCE

REPO = Path(assistant.__file__).resolve().parent.parent


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    (path / ".git").mkdir(parents=True)
    return path


def edit(root: Path, relative: str, change: Callable[[str], str], **read: object) -> FileChange:
    """The change a planner would propose: the text as read, and the text it makes of it."""
    current = read_file(root, relative, **read)  # type: ignore[arg-type]
    assert current is not None
    return FileChange(relative, current.text, change(current.text))


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(files.TEMP_PREFIX) or p.name == files.GIT_JOURNAL]


# --- byte fidelity -------------------------------------------------------------------


def test_crlf_file_edited_in_the_middle_stays_crlf_and_keeps_every_other_byte(root: Path) -> None:
    raw = b"".join(b"line %d\r\n" % i for i in range(200))
    (root / "win.txt").write_bytes(raw)
    # The planner's replacement uses "\n", as models write it.
    change = edit(root, "win.txt", lambda t: t.replace("line 100\r\n", "changed 100\nadded\n"))
    assert apply_changes(root, [change]) == Applied(("win.txt",), ())
    after = (root / "win.txt").read_bytes()
    start = raw.index(b"line 100\r\n")
    assert after[:start] == raw[:start]
    assert after[start:].startswith(b"changed 100\r\nadded\r\n")
    assert after.endswith(raw[start + len(b"line 100\r\n") :])
    assert after.count(b"\n") == after.count(b"\r\n")
    assert leftovers(root) == []


def test_mixed_line_endings_are_kept_as_they_are(root: Path) -> None:
    (root / "mixed.txt").write_bytes(b"a\r\nb\nc\r\nd\n")
    apply_changes(root, [edit(root, "mixed.txt", lambda t: t.replace("b\n", "B\nB2\n"))])
    assert (root / "mixed.txt").read_bytes() == b"a\r\nB\nB2\nc\r\nd\n"


def test_lf_file_stays_lf(root: Path) -> None:
    (root / "unix.py").write_bytes(b"x = 1\ny = 2\n")
    apply_changes(root, [edit(root, "unix.py", lambda t: t.replace("y = 2", "y = 3"))])
    assert (root / "unix.py").read_bytes() == b"x = 1\ny = 3\n"


def test_utf8_bom_is_kept(root: Path) -> None:
    (root / "bom.cs").write_bytes(b"\xef\xbb\xbfclass A {}\r\n")
    current = read_file(root, "bom.cs")
    assert current is not None and current.encoding == "utf-8-sig" and current.text == "class A {}\r\n"
    apply_changes(root, [edit(root, "bom.cs", lambda t: t.replace("A", "Ä"))])
    assert (root / "bom.cs").read_bytes() == b"\xef\xbb\xbfclass \xc3\x84 {}\r\n"


def test_latin1_is_refused_by_default_and_kept_byte_exactly_when_allowed(root: Path) -> None:
    raw = "# café\nname = 'Müller'\n".encode("latin-1")
    (root / "old.py").write_bytes(raw)
    with pytest.raises(FileRefused, match=r"^old\.py: is not UTF-8") as info:
        read_file(root, "old.py")
    assert "\n" not in str(info.value)
    with pytest.raises(FileRefused, match="not UTF-8"):
        apply_changes(root, [FileChange("old.py", raw.decode("latin-1"), "x\n")])
    assert (root / "old.py").read_bytes() == raw

    current = read_file(root, "old.py", fallbacks=("latin-1",))
    assert current is not None and current.encoding == "latin-1"
    change = FileChange("old.py", current.text, current.text.replace("Müller", "Gödel"))
    apply_changes(root, [change], fallbacks=("latin-1",))
    assert (root / "old.py").read_bytes() == raw.replace(
        "Müller".encode("latin-1"), "Gödel".encode("latin-1")
    )


def test_text_the_file_encoding_cannot_hold_is_refused(root: Path) -> None:
    raw = "prix = '5 £'\n".encode("latin-1")
    (root / "p.py").write_bytes(raw)
    change = edit(root, "p.py", lambda t: t.replace("£", "€"), fallbacks=("latin-1",))
    with pytest.raises(FileRefused, match="latin-1 cannot encode"):
        apply_changes(root, [change], fallbacks=("latin-1",))
    assert (root / "p.py").read_bytes() == raw


def test_a_file_without_final_newline_stays_without(root: Path) -> None:
    (root / "end.txt").write_bytes(b"a\nb")
    # A replacement at the end that brings its own newline, as SEARCH/REPLACE blocks do.
    apply_changes(root, [edit(root, "end.txt", lambda t: t.replace("b", "c\nd\n"))])
    assert (root / "end.txt").read_bytes() == b"a\nc\nd"


def test_the_final_newline_is_kept(root: Path) -> None:
    (root / "end.txt").write_bytes(b"a\r\nb\r\n")
    apply_changes(root, [edit(root, "end.txt", lambda t: "a\nchanged")])
    assert (root / "end.txt").read_bytes() == b"a\r\nchanged\r\n"


@pytest.mark.parametrize("mode", [0o755, 0o600, 0o640])
def test_the_mode_is_kept(root: Path, mode: int) -> None:
    script = root / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(mode)
    apply_changes(root, [edit(root, "run.sh", lambda t: t.replace("hi", "ho"))])
    assert script.stat().st_mode & 0o7777 == mode
    assert script.read_text() == "#!/bin/sh\necho ho\n"


def test_a_symlink_inside_the_project_has_its_target_written(root: Path) -> None:
    (root / "real.py").write_text("x = 1\n")
    (root / "link.py").symlink_to("real.py")
    current = read_file(root, "link.py")
    assert (
        current is not None and current.path == (root / "real.py").resolve() and current.relative == "link.py"
    )
    assert apply_changes(root, [edit(root, "link.py", lambda t: "x = 2\n")]).paths == ("link.py",)
    assert (root / "link.py").is_symlink() and os.readlink(root / "link.py") == "real.py"
    assert (root / "real.py").read_text() == "x = 2\n"


def test_a_symlinked_directory_inside_the_project_is_followed(root: Path) -> None:
    (root / "src").mkdir()
    (root / "alias").symlink_to("src")
    apply_changes(root, [FileChange("alias/new.py", None, "pass\n")])
    assert (root / "src" / "new.py").read_text() == "pass\n"
    assert (root / "alias").is_symlink()


def test_two_names_of_one_file_are_refused(root: Path) -> None:
    (root / "real.py").write_text("x = 1\n")
    (root / "link.py").symlink_to("real.py")
    changes = [FileChange("real.py", "x = 1\n", "x = 2\n"), FileChange("link.py", "x = 1\n", "x = 3\n")]
    with pytest.raises(EditError, match="are the same file"):
        apply_changes(root, changes)
    assert (root / "real.py").read_text() == "x = 1\n"


def test_a_new_file_in_new_directories(root: Path) -> None:
    applied = apply_changes(root, [FileChange("pkg/sub/new.py", None, "print('hi')\n")])
    assert applied == Applied(("pkg/sub/new.py",), ("pkg/sub/new.py",))
    new = root / "pkg" / "sub" / "new.py"
    assert new.read_bytes() == b"print('hi')\n"  # UTF-8, LF, as given
    umask = os.umask(0)
    os.umask(umask)
    assert new.stat().st_mode & 0o777 == 0o644 & ~umask
    assert leftovers(root) == []


def test_paths_are_reported_normalised(root: Path) -> None:
    assert normalise("./pkg//sub/./a.py") == "pkg/sub/a.py"
    applied = apply_changes(root, [FileChange("./pkg//a.py", None, "")])
    assert applied.paths == ("pkg/a.py",)
    assert resolve(root, "pkg/./a.py") == (root / "pkg" / "a.py").resolve()


def test_a_missing_file_reads_as_none(root: Path) -> None:
    assert read_file(root, "nope/none.py") is None


def test_binary_files_are_refused(root: Path) -> None:
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(FileRefused, match=r"^img\.png: looks binary"):
        read_file(root, "img.png")
    (root / "wide.txt").write_bytes("hello\n".encode("utf-16"))
    with pytest.raises(FileRefused, match="is UTF-16"):
        read_file(root, "wide.txt")


def test_too_big_files_are_refused(root: Path) -> None:
    (root / "big.txt").write_text("x" * 2000)
    with pytest.raises(FileRefused, match="over the 1000-byte limit"):
        read_file(root, "big.txt", max_bytes=1000)
    (root / "small.txt").write_text("x")
    with pytest.raises(FileRefused, match="over the 1000-byte limit"):
        apply_changes(root, [FileChange("small.txt", "x", "y" * 1001)], max_bytes=1000)
    assert (root / "small.txt").read_text() == "x"


def test_unchanged_bytes_are_not_written(root: Path) -> None:
    (root / "same.txt").write_bytes(b"a\r\nb\r\n")
    before = (root / "same.txt").stat().st_ino
    # "\n" becomes "\r\n" again, so the bytes are the file's own.
    assert apply_changes(root, [FileChange("same.txt", "a\r\nb\r\n", "a\nb\n")]) == Applied((), ())
    assert (root / "same.txt").stat().st_ino == before


# --- all or nothing ----------------------------------------------------------------------


def three_files(root: Path) -> dict[str, bytes]:
    contents = {"a.py": b"a = 1\n", "b/b.py": b"b = 1\n", "c.txt": b"c\r\n"}
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return contents


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_apply_changes_writes_all_three(root: Path) -> None:
    three_files(root)
    changes = [
        edit(root, name, lambda t: t.replace("1", "2").replace("c", "C"))
        for name in ("a.py", "b/b.py", "c.txt")
    ]
    applied = apply_changes(root, [*changes, FileChange("d.md", None, "# d\n")])
    assert applied == Applied(("a.py", "b/b.py", "c.txt", "d.md"), ("d.md",))
    assert snapshot(root) == {"a.py": b"a = 2\n", "b/b.py": b"b = 2\n", "c.txt": b"C\r\n", "d.md": b"# d\n"}
    assert (
        leftovers(root) == []
        and not (Path(os.environ["ASSISTANT_HOME"]) / "data" / "pending-writes").exists()
    )


@pytest.mark.parametrize(
    ("stale", "message"),
    [
        (FileChange("c.txt", "c\n", "C\n"), r"^c\.txt changed since the proposal was made$"),
        (FileChange("c.txt", None, "C\n"), r"^c\.txt was created since the proposal was made$"),
        (FileChange("gone.txt", "x\n", "y\n"), r"^gone\.txt was deleted since the proposal was made$"),
    ],
    ids=["changed", "created", "deleted"],
)
def test_a_stale_before_text_refuses_everything(root: Path, stale: FileChange, message: str) -> None:
    three_files(root)
    before = snapshot(root)
    changes = [FileChange("a.py", "a = 1\n", "a = 2\n"), FileChange("new/n.py", None, "n\n"), stale]
    with pytest.raises(EditError, match=message):
        apply_changes(root, changes)
    assert snapshot(root) == before
    assert not (root / "new").exists()


def test_a_failed_rename_puts_back_the_files_already_renamed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contents = three_files(root)
    real_replace = os.replace
    calls = []

    def flaky(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", flaky)
    changes = [FileChange("new.py", None, "n\n")]
    changes += [edit(root, name, lambda t: t.upper()) for name in ("a.py", "b/b.py", "c.txt")]
    with pytest.raises(EditError, match=r"^a\.py: cannot be replaced|^b/b\.py: cannot be replaced") as info:
        apply_changes(root, changes)
    assert "nothing else was changed" in str(info.value)
    assert snapshot(root) == contents
    assert leftovers(root) == []


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        (".assistant-tmp-", r"^new/n\.py: cannot write \(No space left on device\)$"),
        ("assistant-pending", r"^/.*/\.git/assistant-pending: cannot write \(No space left on device\)$"),
    ],
    ids=["temp file", "journal"],
)
def test_a_failed_write_leaves_nothing(
    root: Path, monkeypatch: pytest.MonkeyPatch, failing: str, message: str
) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell which file is being synced")
    contents = three_files(root)
    real_fsync = os.fsync

    def full(fd: int) -> None:
        if failing in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    changes = [FileChange("new/n.py", None, "n\n")]
    changes += [edit(root, n, lambda t: t + "#\n") for n in ("a.py", "b/b.py")]
    with pytest.raises(EditError, match=message):
        apply_changes(root, changes)
    if failing == ".assistant-tmp-":
        with pytest.raises(EditError, match="No space left"):
            write_atomic((root / "c.txt").resolve(), b"x", mode=0o644)
    assert snapshot(root) == contents
    assert leftovers(root) == [] and not (root / "new").exists()


def test_write_atomic_replaces_whole_and_keeps_mode(root: Path) -> None:
    target = root / "w.txt"
    target.write_text("old")
    target.chmod(0o751)
    write_atomic(target, b"new", mode=0o751)
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o751
    with pytest.raises(EditError, match="cannot write"):
        write_atomic(root / "missing" / "x.txt", b"x", mode=None)
    assert leftovers(root) == []


def test_encode_a_new_file_is_utf8_as_given() -> None:
    assert encode(None, "é\r\nx\n") == "é\r\nx\n".encode()


def test_encode_keeps_the_original_form() -> None:
    crlf = TextFile("a", Path("/a"), "x\r\ny\r\n", "utf-8-sig", 0o644, b"\xef\xbb\xbfx\r\ny\r\n")
    assert encode(crlf, "x\ny\nz") == b"\xef\xbb\xbfx\r\ny\r\nz\r\n"
    empty = TextFile("e", Path("/e"), "", "utf-8", 0o644, b"")
    assert encode(empty, "new\n") == b"new\n"


def test_the_journal_lives_in_git_or_the_data_dir(root: Path, tmp_path: Path) -> None:
    assert files._journal(root.resolve()) == root.resolve() / ".git" / "assistant-pending"
    plain = tmp_path / "plain"
    plain.mkdir()
    assert files._journal(plain) == Path(os.environ["ASSISTANT_HOME"]) / "data" / "pending-writes"
    apply_changes(plain, [FileChange("x.txt", None, "x\n")])
    assert (plain / "x.txt").read_text() == "x\n"


def test_cleanup_removes_what_a_crash_left_and_nothing_it_should_not(root: Path, tmp_path: Path) -> None:
    (root / "pkg").mkdir()
    temp = root / "pkg" / ".assistant-tmp-0123456789ab-a.py"
    beside = root / "pkg" / ".assistant-tmp-ba9876543210-b.py"
    outside = tmp_path / "outside"
    outside.mkdir()
    planted = outside / ".assistant-tmp-000000000000-x"  # a journal in the project could be planted
    keep = root / "pkg" / "a.py"
    for path in (temp, beside, planted, keep):
        path.write_text("x")
    journal = root / ".git" / "assistant-pending"
    journal.write_bytes(b"%s\n%s\n%s\n/trunc" % (bytes(temp), bytes(planted), bytes(keep)))
    assert sorted(cleanup_pending(root)) == sorted([temp.resolve(), beside.resolve()])
    assert planted.exists() and keep.exists() and not journal.exists()
    assert cleanup_pending(root) == []


def test_a_second_assistant_waits_then_gives_up(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fcntl = pytest.importorskip("fcntl")
    monkeypatch.setattr(files, "LOCK_WAIT_S", 0.1)
    (root / "a.py").write_text("a\n")
    (root / ".git" / "assistant-pending").write_text(f"{root / '.assistant-tmp-000000000000-a.py'}\n")
    (root / ".assistant-tmp-000000000000-a.py").write_text("half")
    fd = os.open(root / ".git", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(EditError, match="another assistant is applying edits"):
            apply_changes(root, [FileChange("a.py", "a\n", "b\n")])
        assert cleanup_pending(root) == []  # its temp files may be in use
    finally:
        os.close(fd)
    assert apply_changes(root, [FileChange("a.py", "a\n", "b\n")]).paths == ("a.py",)
    assert leftovers(root) == []


# --- permissions (enforced for root only without its capabilities) ----------------------

PERMISSIONS_SCRIPT = """
import sys
from pathlib import Path
from assistant.core.edits.files import apply_changes
from assistant.core.edits.types import EditError, FileChange
root = Path(sys.argv[1])
for change in (FileChange("ro.txt", "ro\\n", "rw\\n"), FileChange("locked/new.txt", None, "n\\n"),
               FileChange("locked/in.txt", "in\\n", "out\\n")):
    try:
        apply_changes(root, [change])
        print("written", change.path)
    except EditError as exc:
        print(type(exc).__name__, exc)
"""


def test_read_only_files_and_directories_are_refused_cleanly(root: Path) -> None:
    (root / "ro.txt").write_text("ro\n")
    (root / "ro.txt").chmod(0o444)
    (root / "locked").mkdir()
    (root / "locked" / "in.txt").write_text("in\n")
    (root / "locked").chmod(0o555)
    before = snapshot(root)
    command = [sys.executable, "-c", PERMISSIONS_SCRIPT, str(root)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *command]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        result = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=PATIENCE)
    finally:
        (root / "locked").chmod(0o755)
    if result.returncode != 0 and "setpriv" in result.stderr:
        pytest.skip(f"cannot drop privileges here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "FileRefused ro.txt: is read-only, so it is left as it is"
    assert lines[1] == "EditError locked/new.txt: cannot write (Permission denied)"
    assert lines[2] == "EditError locked/in.txt: cannot write (Permission denied)"
    assert snapshot(root) == before
    assert leftovers(root) == []


def test_unsafe_paths_are_refused_before_anything_is_read(root: Path) -> None:
    (root / "a.py").write_text("a\n")
    with pytest.raises(UnsafePath, match=r"^\.\./x: has a '\.\.' component"):
        apply_changes(root, [FileChange("a.py", "a\n", "b\n"), FileChange("../x", None, "x")])
    assert (root / "a.py").read_text() == "a\n"

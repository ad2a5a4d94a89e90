"""A hostile corpus of proposed edits: each one is refused with a typed, one-line error,
and not one byte or mode changes, neither in a sentinel tree outside the project nor
inside it (its .git/ included)."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.core.edits.files import apply_changes
from assistant.core.edits.types import EditError, FileChange, FileRefused, UnsafePath

MAX_BYTES = 10_000
OK_TEXT = "ok = True\n"


@dataclass(frozen=True, slots=True)
class World:
    root: Path
    outside: Path


def build(tmp_path: Path) -> World:
    """A project with a .git/, symlinks of every hostile kind, and a sentinel tree beside it."""
    outside = tmp_path / "outside"
    (outside / "deeper").mkdir(parents=True)
    (outside / "secret.txt").write_text("secret\n")
    (outside / "deeper" / "x").write_text("deep\n")
    (outside / ".assistant-tmp-000000000000-secret.txt").write_text("looks like ours\n")
    root = tmp_path / "repo"
    for directory in (".git/hooks", "sub/.git/hooks", "adir", "src"):
        (root / directory).mkdir(parents=True)
    for name, text in {
        ".git/config": "[core]\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        ".git/hooks/pre-commit": "#!/bin/sh\n",
        "sub/.git/hooks/x": "hook\n",
        "ok.py": OK_TEXT,
        "small.txt": "small\n",
        "src/a.py": "a = 1\n",
        "big.txt": "b" * (MAX_BYTES + 1),
    }.items():
        (root / name).write_text(text)
    (root / "bin.dat").write_bytes(b"\x7fELF\x00\x01\x02")
    (root / "latin.txt").write_bytes("café\n".encode("latin-1"))
    os.mkfifo(root / "fifo")
    links = {
        "out_file": "../outside/secret.txt",
        "out_dir": "../outside",
        "abs_link": str(outside / "secret.txt"),
        "abs_dir": str(outside),
        "chain1": "chain2",
        "chain2": "out_file",
        "loop_a": "loop_b",
        "loop_b": "loop_a",
        "git_link": ".git/config",
        "git_dir_link": ".git",
        "dangling_out": "../outside/new.txt",
        "devnull": "/dev/null",
        "up": "..",
        "self": ".",
        "fifo_link": "fifo",
        "src/back_out": "../../outside",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    return World(root, outside)


def hostile_paths(world: World) -> list[str]:
    outside = str(world.outside)
    absolute = [
        "/etc/passwd", f"{outside}/secret.txt", f"{outside}/new.txt", "//x", "/", str(world.root / "ok.py"),
        "C:/x", "c:x", "C:\\Windows\\x",
    ]
    dotdot = [
        "..", "../", "../x", "../../x", "a/../../x", "a/../x", "./../x", "a/b/../../../x",
        "sub/../../outside/secret.txt", "..//x", "src/./../../x", "src/..", "ok.py/..",
        *("../" * n + "outside/secret.txt" for n in range(1, 7)),
        *("a/" * n + "../" * (n + 1) + "outside/new.txt" for n in range(1, 5)),
    ]
    backslashes = ["..\\x", "..\\..\\outside\\secret.txt", "a\\b", "\\x", "sub\\..\\..\\x", "\\\\server\\share"]
    symlinks = [
        "out_file", "out_dir/secret.txt", "out_dir/new.txt", "out_dir/deeper/x", "out_dir/deeper/new/x",
        "abs_link", "abs_dir/secret.txt", "abs_dir/new.txt", "chain1", "chain2", "loop_a", "loop_a/x",
        "git_link", "git_dir_link/config", "git_dir_link/new", "git_dir_link/hooks/pre-commit",
        "dangling_out", "devnull", "up/outside/secret.txt", "up/outside/new.txt", "self", "self/.git/config",
        "src/back_out/secret.txt", "src/back_out/new.txt", "fifo_link",
        "out_dir/.assistant-tmp-000000000000-secret.txt",
    ]
    git = [
        ".git", ".git/", ".git/config", ".git/HEAD", ".GIT/HEAD", ".Git/config", "./.git/config",
        ".git/hooks/pre-commit", ".git/hooks/new", "sub/.git/hooks/x", "sub/.GIT/hooks/pre-commit",
        "sub/.git", ".git./config", ".git /config", "GIT~1/config", "git~1/HEAD",
        ".git::$INDEX_ALLOCATION/config", ".git/assistant-pending", "a/.git/x",
    ]
    control = [
        "a\x00b", "\x00", "ok.py\x00.txt", "a\nb", "a\rb", "a\tb", "\x1b[31mx", "a\x7fb", "a\x85b",
        "a\u200bb", "a\u202eyp.txt", "\ufeffok.py", "a\u2028b", "ok.py\n", "src/\x00/a.py",
    ]
    unicode = [
        "\ufb01le.txt", "cafe\u0301.py", "\uff46\uff55\uff4c\uff4c.py", "\u212b.txt", "x\u00b2.py",
        "a\u00a0b", "\u2025/x", "\uff0e\uff0e/outside/secret.txt", "\ufe52\ufe52/x", "\u3000a",
        "=\u0338.py", "an\u0303o.py", "\u2126hm", "sub/e\u0301/x.py",
    ]
    names = [
        "a.py.", "a.py ", "adir./x", "a...", " ", "ok.py ", "", ".", "./", "./.", "//", "a/",
        "a" * 256, "a/" * 2100 + "x", ("b" * 200 + "/") * 25 + "x", "é" * 128,
        ".assistant-tmp-000000000000-ok.py", "src/.assistant-tmp-x",
    ]
    special = ["adir", "adir/", "src", "fifo", "ok.py/x", "small.txt/new.py"]
    return [*absolute, *dotdot, *backslashes, *symlinks, *git, *control, *unicode, *names, *special]


def hostile_edits(world: World) -> list[list[FileChange]]:
    """Every hostile path as a creation and as an edit, alone and beside a valid change;
    then content the writer must refuse for files that may otherwise be written."""
    valid = FileChange("ok.py", OK_TEXT, "pwned = True\n")
    edits = []
    for path in hostile_paths(world):
        for before in (None, "secret\n"):
            hostile = FileChange(path, before, "pwned\n")
            edits += [[hostile], [valid, hostile]]
    refused_content = [
        FileChange("small.txt", "small\n", "x" * (MAX_BYTES + 1)),
        FileChange("huge/new.txt", None, "x" * (MAX_BYTES * 10)),
        FileChange("small.txt", "small\n", "nul\x00byte\n"),
        FileChange("big.txt", "b" * (MAX_BYTES + 1), "short\n"),
        FileChange("bin.dat", "\x7fELF\x00\x01\x02", "text\n"),
        FileChange("latin.txt", "café\n", "cafe\n"),
        FileChange("small.txt", "not what it says\n", "x\n"),
        FileChange("small.txt", None, "x\n"),
        FileChange("missing/new.py", "was here\n", "x\n"),
        FileChange("src/a.py", "a = 1\n", "a = '\udc80'\n"),
    ]
    for hostile in refused_content:
        edits += [[hostile], [valid, hostile], [hostile, valid]]
    same_file = [FileChange("ok.py", OK_TEXT, "one\n"), FileChange("./ok.py", OK_TEXT, "two\n")]
    return [*edits, same_file]


def fingerprint(*trees: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under `trees`, without following links: kind, mode, and content or target."""
    seen: dict[str, tuple[object, ...]] = {}
    for tree in trees:
        for directory, dirs, names in os.walk(tree, followlinks=False):
            for name in [*dirs, *names]:
                path = os.path.join(directory, name)
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as file:
                        content: object = hashlib.sha256(file.read()).hexdigest()
                elif stat.S_ISLNK(st.st_mode):
                    content = os.readlink(path)
                else:
                    content = None
                seen[path] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, content)
        seen[str(tree)] = (stat.S_IMODE(os.lstat(tree).st_mode),)
    return seen


def test_the_hostile_corpus_changes_nothing(tmp_path: Path) -> None:
    world = build(tmp_path)
    corpus = hostile_edits(world)
    assert len(corpus) >= 200
    before = fingerprint(world.root, world.outside)
    problems = []
    for changes in corpus:
        try:
            applied = apply_changes(world.root, changes, max_bytes=MAX_BYTES)
        except (UnsafePath, FileRefused, EditError) as exc:
            message = str(exc)
            if not message or "\n" in message or "\r" in message or len(message) > 300:
                problems.append(f"{changes!r}: not one short line: {message!r}")
        except Exception as exc:  # noqa: BLE001 - collect every untyped failure
            problems.append(f"{changes!r}: {type(exc).__name__}: {exc}")
        else:
            problems.append(f"{changes!r}: was applied: {applied}")
        after = fingerprint(world.root, world.outside)
        if after != before:
            changed = sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k))
            problems.append(f"{changes!r}: changed {changed}")
            before = after
    assert not problems, f"{len(problems)} of {len(corpus)} hostile edits got through:\n" + "\n".join(
        p[:400] for p in problems
    )


@pytest.mark.parametrize(
    ("error", "path"),
    [
        (UnsafePath, "../x"),
        (UnsafePath, "out_file"),
        (UnsafePath, ".GIT/HEAD"),
        (UnsafePath, "fifo"),
        (UnsafePath, "adir"),
        (UnsafePath, "loop_a"),
        (UnsafePath, "\ufb01le.txt"),
        (FileRefused, "bin.dat"),
        (FileRefused, "big.txt"),
        (FileRefused, "latin.txt"),
    ],
)
def test_each_kind_of_refusal_has_its_type(tmp_path: Path, error: type[EditError], path: str) -> None:
    world = build(tmp_path)
    with pytest.raises(error) as info:
        apply_changes(world.root, [FileChange(path, "x", "y")], max_bytes=MAX_BYTES)
    assert type(info.value) is error


@pytest.mark.parametrize("name", ["..%2fx", "%2e%2e%2f%2e%2e%2foutside", "..%2F..%2Fsecret.txt", "a\u2215b", "...x"])
def test_encoded_names_are_taken_literally(tmp_path: Path, name: str) -> None:
    """Percent-encoding and lookalike slashes mean nothing to a filesystem: such a path is
    one file of exactly that name inside the project, and nothing outside changes."""
    world = build(tmp_path)
    outside = fingerprint(world.outside)
    assert apply_changes(world.root, [FileChange(name, None, "literal\n")]).created == (name,)
    assert (world.root / name).read_text() == "literal\n"
    assert [p.name for p in world.root.iterdir() if p.name == name] == [name]
    assert fingerprint(world.outside) == outside

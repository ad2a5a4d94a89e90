"""The project's files by name (core/project_files.py): git's view in a real
repository (ignored files out, untracked in), a capped walk elsewhere, a folder of
it read literally, git's failure said (strict) or walked past, and the completion
of a typed path a folder at a time."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from assistant.core.project_files import ProjectPaths, project_files


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, capture_output=True, check=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write(root, {
        "src/calc.py": "x = 1\n", "src/pkg/util.py": "", "README.md": "", ".gitignore": "build/\n*.log\n",
        "gone.py": "", ".github/ci.yml": "",
    })
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-qm", "init")
    write(root, {"new.py": "", "build/out.txt": "", "debug.log": "", "src/__pycache__/calc.cpython-311.pyc": ""})
    (root / "gone.py").unlink()
    return root


def test_a_git_repository_lists_tracked_and_untracked_files_not_ignored_ones(repo: Path) -> None:
    assert project_files(repo) == [
        ".github/ci.yml", ".gitignore", "README.md", "new.py", "src/calc.py", "src/pkg/util.py",
    ]


def test_a_submodule_is_not_listed_as_a_file(repo: Path, tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    write(inner, {"lib.py": ""})
    git(inner, "init", "-q")
    git(inner, "add", ".")
    git(inner, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-qm", "init")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "vendor/inner")
    assert "vendor/inner" not in project_files(repo)


def test_outside_git_a_walk_skips_hidden_folders_and_dependencies(tmp_path: Path) -> None:
    write(tmp_path, {
        "a.py": "", "docs/guide.md": "", ".env": "", ".venv/lib/x.py": "", ".cache/y": "", ".tox/py/z": "",
        "node_modules/left/index.js": "", "pkg/__pycache__/m.pyc": "", "pkg/m.py": "", "venv/bin/activate": "",
    })
    assert project_files(tmp_path) == [".env", "a.py", "docs/guide.md", "pkg/m.py"]


def test_a_folder_lists_only_its_files_read_literally(repo: Path) -> None:
    write(repo, {"app/[id]/page.tsx": "", "app/i/page.tsx": "", "app/d/page.tsx": ""})
    assert project_files(repo, "src") == ["src/calc.py", "src/pkg/util.py"]
    assert project_files(repo, "app/[id]") == ["app/[id]/page.tsx"]  # not the glob's app/i and app/d


def test_a_walk_enters_the_folder_named_even_hidden_but_not_those_below(tmp_path: Path) -> None:
    write(tmp_path, {".github/ci.yml": "", ".github/.cache/x": "", ".github/node_modules/y.js": "", "a.py": ""})
    assert project_files(tmp_path, ".github") == [".github/ci.yml"]


def test_a_root_below_the_repositorys_top_is_listed_by_git(repo: Path) -> None:
    write(repo, {"src/trace.log": "", "src/build/x.py": ""})  # ignored by the top's .gitignore
    assert project_files(repo / "src") == ["calc.py", "pkg/util.py"]


def test_the_walk_is_capped_breadth_first(tmp_path: Path) -> None:
    write(tmp_path, {f"deep/{i:03}.txt": "" for i in range(50)} | {"top.txt": "", "zz/last.txt": ""})
    found = project_files(tmp_path, limit=10)
    assert len(found) == 10 and "top.txt" in found  # the root's files come before a folder's
    assert len(project_files(tmp_path, limit=None)) == 52


def test_gits_listing_is_capped_too(repo: Path) -> None:
    assert len(project_files(repo, limit=2)) == 2
    assert len(project_files(repo, limit=None)) == 6


@pytest.mark.parametrize("with_git", [True, False])
def test_a_name_that_is_not_utf8_is_listed_for_its_refusal_but_never_completed(tmp_path: Path, with_git: bool) -> None:
    write(tmp_path, {"ok.txt": ""})
    bad = os.fsdecode(b"bad-\xff.txt")
    try:
        (tmp_path / bad).write_text("")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this filesystem refuses names that are not UTF-8")
    if with_git:
        git(tmp_path, "init", "-q")
    assert project_files(tmp_path) == [bad, "ok.txt"]  # as os.listdir names it: the bytes come back
    assert ProjectPaths.of(project_files(tmp_path)).complete("") == ["ok.txt"]


def test_a_broken_repository_falls_back_to_the_walk(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "", ".git/HEAD": "garbage"})
    assert project_files(tmp_path) == ["a.py"]


def test_strict_a_broken_repository_is_said_in_one_line_not_walked(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "", ".git/HEAD": "garbage"})
    with pytest.raises(OSError, match=r"^git could not list the files \(fatal: [^\n]*\)$"):
        project_files(tmp_path, strict=True)


def test_without_git_installed_strict_says_so_and_otherwise_walks(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = tmp_path / "empty-path"
    nowhere.mkdir()
    monkeypatch.setenv("PATH", str(nowhere))
    with pytest.raises(OSError, match="^git is not installed, and only git can say which files it ignores$"):
        project_files(repo, strict=True)
    assert "debug.log" in project_files(repo)  # completion guesses: a walk, ignored files and all


PATHS = ProjectPaths.of(["src/calc.py", "src/pkg/util.py", "setup.py", "README.md", ".github/ci.yml", "Src.txt"])


@pytest.mark.parametrize(("typed", "here", "expected"), [
    ("sr", "", ["src/"]),  # a folder with its `/`; case decides first
    ("s", "", ["setup.py", "src/"]),
    ("src/", "", ["src/calc.py", "src/pkg/"]),
    ("src/c", "", ["src/calc.py"]),
    ("", "", ["README.md", "Src.txt", "setup.py", "src/"]),  # hidden names wait for a `.`
    (".", "", [".github/"]),
    ("read", "", ["README.md"]),  # no match in case: any case
    ("ca", "src", ["calc.py"]),  # standing in src/
    ("../set", "src", ["../setup.py"]),
    ("./src/p", "", ["./src/pkg/"]),
    ("../x", "", []),  # out of the project
    ("/etc/pa", "", []),
    ("~/no", "", []),
    ("nothing", "", []),
])
def test_completion_goes_one_folder_at_a_time(typed: str, here: str, expected: list[str]) -> None:
    assert PATHS.complete(typed, here) == expected

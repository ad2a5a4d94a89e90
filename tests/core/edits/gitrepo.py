"""A real git repository in a temp folder, for edit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def make_repo(root: Path, files: dict[str, str], *, untracked: dict[str, bytes | str] | None = None) -> Path:
    """`root` as a git repository whose first commit holds `files`; `untracked` files are written, not added."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "Tester")
    for name, text in files.items():
        (root / name).write_text(text)
    for name, data in (untracked or {}).items():
        path = root / name
        path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
    git(root, "add", *files)
    git(root, "commit", "-qm", "init")
    return root

"""`core.project`: the one rule for "is this path inside the project root", checked
against the file system on generated paths (`..`, `.`, `~`, absolute paths, symlinks
that lead out, in, or round in a loop), through both its callers' views."""

from __future__ import annotations

import os
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.project import OutsideProject, typed_path, within_root

_PARTS = ["a.py", "sub", "..", ".", "", "~", "out", "in", "loop", "gone.py", "other", "project"]
_PATH = st.lists(st.sampled_from(_PARTS), min_size=1, max_size=6).map("/".join)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """outside/project (the root) with sub/a.py, `out` → .., `in` → sub, a `loop`
    that points at itself; outside/other beside it."""
    outside = tmp_path_factory.mktemp("outside")
    root = outside / "project"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.py").write_text("x\n")
    (root / "a.py").write_text("x\n")
    (outside / "other").mkdir()
    (outside / "other" / "a.py").write_text("x\n")
    os.symlink("..", root / "out")
    os.symlink("sub", root / "in")
    os.symlink("loop", root / "loop")
    return root


def _inside(real: str, root: Path) -> bool:
    return Path(real).is_relative_to(os.path.realpath(root))


@given(path=_PATH, start=st.sampled_from(["", "sub", "in", "out"]), absolute=st.booleans(),
       home=st.sampled_from(["sub", "out/other"]))
def test_a_typed_path_is_the_same_place_inside_the_root_or_refused(
    tree: Path, path: str, start: str, absolute: bool, home: str
) -> None:
    cwd = tree / start
    typed = str(cwd / path) if absolute else path
    with patch.dict(os.environ, {"HOME": str(tree / home)}):
        try:
            relative = typed_path(typed, root=tree, cwd=cwd)
        except OutsideProject as exc:
            assert "\n" not in str(exc)
            if "outside the project" in str(exc):  # then it leads outside, every link followed
                expanded = os.path.expanduser(typed) if typed == "~" or typed.startswith("~/") else typed
                assert not _inside(os.path.realpath(cwd / expanded), tree)
            return
        expanded = os.path.expanduser(typed) if typed == "~" or typed.startswith("~/") else typed
    parts = relative.split("/")
    assert relative and not relative.startswith("/") and not {"", ".", ".."} & set(parts)
    # The same place, known by real folders (only its own name may be a link).
    assert os.path.realpath(tree / relative) == os.path.realpath(cwd / expanded)
    assert os.path.realpath(tree / relative).startswith(os.path.realpath(tree)) or os.path.islink(tree / relative)
    assert os.path.realpath((tree / relative).parent) == str(Path(os.path.realpath(tree), *parts[:-1]))


@given(path=_PATH, keep_name=st.booleans())
def test_within_root_agrees_with_the_file_system(tree: Path, path: str, keep_name: bool) -> None:
    inside = within_root(tree / path, tree, keep_name=keep_name)
    real = os.path.realpath(tree / path)
    if not keep_name:
        assert (inside is not None) == _inside(real, tree)
        if inside is not None:
            assert os.path.join(os.path.realpath(tree), inside) == real.rstrip("/") or inside == Path()
    elif inside is None:
        assert not _inside(os.path.realpath((tree / path).parent), tree) or Path(path).name == ".."


def test_a_link_out_is_outside_unless_kept_by_its_name(tree: Path) -> None:
    assert within_root(tree / "out", tree) is None
    assert within_root(tree / "out", tree, keep_name=True) == Path("out")
    assert within_root(tree / "in" / "a.py", tree) == Path("sub/a.py")
    assert within_root(tree / "sub" / "..", tree, keep_name=True) == Path()
    assert typed_path("in/a.py", root=tree, cwd=tree) == "sub/a.py"
    with pytest.raises(OutsideProject, match="outside the project"):
        typed_path("out/other/a.py", root=tree, cwd=tree)

"""The one atomic file writer (assistant/core/atomic.py)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core import atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@given(st.binary(max_size=4096), st.binary(max_size=4096), st.sampled_from([0o600, 0o640, 0o755, 0o444]))
def test_a_replaced_file_has_the_new_bytes_and_keeps_its_mode(tmp_path_factory, old, new, mode) -> None:
    folder = tmp_path_factory.mktemp("w")
    target = folder / "f.txt"
    target.write_bytes(old)
    os.chmod(target, mode)
    atomic.write_atomic(target, new)
    assert target.read_bytes() == new
    assert _mode(target) == mode
    assert os.listdir(folder) == ["f.txt"]  # no temp file left


def test_a_new_file_gets_the_default_mode_less_the_umask_or_the_one_asked(tmp_path) -> None:
    umask = os.umask(0o027)
    try:
        atomic.write_atomic(tmp_path / "new", b"x")
        atomic.write_atomic(tmp_path / "secret", b"k", mode=0o600)
    finally:
        os.umask(umask)
    assert _mode(tmp_path / "new") == 0o644 & ~0o027
    assert _mode(tmp_path / "secret") == 0o600


@pytest.mark.parametrize("failing", ["fsync", "fchmod", "replace", "before_replace"])
def test_a_failure_at_any_step_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch, failing) -> None:
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)

    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    refuse = None
    if failing == "before_replace":
        refuse = fail
    else:
        monkeypatch.setattr(atomic.os, failing, fail)
    with pytest.raises(OSError, match="No space"):
        atomic.write_atomic(target, b"new", before_replace=refuse)
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and _mode(target) == 0o640
    assert os.listdir(tmp_path) == ["f.txt"]


def test_temp_names_fit_a_long_name_and_say_whose_they_are(tmp_path) -> None:
    long = tmp_path / ("n" * 250)
    temp = atomic.temp_path(long)
    assert temp.parent == tmp_path and temp.name.startswith(atomic.TEMP_PREFIX)
    assert len(os.fsencode(temp.name)) <= atomic.NAME_MAX
    atomic.write_atomic(long, b"x")
    assert long.read_bytes() == b"x"

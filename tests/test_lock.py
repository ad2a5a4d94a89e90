"""The locks and pyproject.toml agree, and the suite runs on what the lock pins.

pyproject.toml is the contract for people who install the package into their own
environment (ranges that stop below the next major release); requirements.lock and
requirements-dev.lock are what the README's commands and .ci/run install, and so what
the suite last passed with (.ci/compile-locks writes them, .ci/relock moves them).
"""

from __future__ import annotations

import importlib.metadata
import os
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
APP_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _declared() -> list[Requirement]:
    project = _project()
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def _pins(lock: Path) -> list[Requirement]:
    """Each `name==version [; marker]` line of a lock (hashes and comments left out)."""
    lines = lock.read_text().splitlines()
    return [Requirement(line.rstrip(" \\")) for line in lines if line and not line[0].isspace() and "==" in line]


def _version(pin: Requirement) -> Version:
    (spec,) = pin.specifier
    return Version(spec.version)


def _applies(pin: Requirement) -> bool:
    return pin.marker is None or pin.marker.evaluate()


def test_every_range_stops_below_a_major_release() -> None:
    """A breaking release is refused at install time, not met at run time."""
    open_ended = [str(r) for r in _declared() if not any(s.operator in ("<", "==", "~=") for s in r.specifier)]
    assert not open_ended, f"ranges without an upper bound: {open_ended}"


def test_the_locks_satisfy_pyproject() -> None:
    """After an edit of pyproject.toml, `.ci/compile-locks` brings the locks along."""
    for lock, declared in ((DEV_LOCK, _declared()), (APP_LOCK, [Requirement(r) for r in _project()["dependencies"]])):
        pins: dict[str, list[Version]] = {}
        for pin in _pins(lock):
            pins.setdefault(canonicalize_name(pin.name), []).append(_version(pin))
        for requirement in declared:
            locked = pins.get(canonicalize_name(requirement.name))
            assert locked, f"{requirement.name} is not in {lock.name}: run .ci/compile-locks"
            outside = [str(v) for v in locked if v not in requirement.specifier]
            assert not outside, f"{lock.name} pins {requirement.name} {outside}, outside {requirement}"


def test_the_app_lock_is_the_dev_lock_less_the_test_tools() -> None:
    """Both README commands install the same version of every package they share (the
    app's markers may be narrower: the test tools need some packages on more platforms)."""
    dev = {(canonicalize_name(p.name), _version(p)) for p in _pins(DEV_LOCK)}
    app = {(canonicalize_name(p.name), _version(p)) for p in _pins(APP_LOCK)}
    assert app <= dev, f"in requirements.lock only: {sorted(app - dev)}"


def test_the_llama_build_is_the_locked_release() -> None:
    """.ci/llama-env builds the release pyproject.toml pins; the lock holds its sdist's hash."""
    (pinned,) = [r for r in _declared() if r.name == "llama-cpp-python"]
    (locked,) = [p for p in _pins(DEV_LOCK) if p.name == "llama-cpp-python"]
    assert pinned.specifier == locked.specifier


def test_the_suite_runs_on_what_the_lock_pins() -> None:
    """What is installed is what the lock says, so a green suite vouches for the lock.
    (.ci/drift points this at its scratch lock through ASSISTANT_TEST_LOCK.)"""
    lock = Path(os.environ.get("ASSISTANT_TEST_LOCK", DEV_LOCK))
    wrong = []
    for pin in filter(_applies, _pins(lock)):
        try:
            installed = importlib.metadata.version(pin.name)
        except importlib.metadata.PackageNotFoundError:
            installed = "nothing"
        if installed == "nothing" or Version(installed) != _version(pin):
            wrong.append(f"{pin.name}: {installed} installed, {_version(pin)} locked")
    assert not wrong, f"install from {lock.name} (the README's command): " + "; ".join(wrong)

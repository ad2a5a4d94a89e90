"""Model-written code runs with no secrets, under limits, and leaves nothing behind
(core/sandbox.py, through the edit checks): process listings after a timeout and a
cancel, the environment a check sees, the limits it runs under, output that stays
bounded, absolute symlinks in the scratch copy, and a full disk named as such."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core import sandbox
from assistant.core.config import Config, ConfigError, parse
from assistant.core.edits.checks import cleanup_scratch, run_checks
from assistant.core.edits.files import apply_changes
from assistant.core.edits.types import FileChange, UnsafePath
from assistant.core.paths import Paths
from tests.core.edits.gitrepo import git, make_repo
from tests.patience import FOREVER, wait_until

CALC = "def add(a, b):\n    return a + b\n"
HANG = CALC + "\nHANG = 1\n"
# Started by the check on the edited code only (the unchanged copy's run passes at once):
# a child that ignores SIGTERM, a `setsid` program, a double fork into a session of its
# own and a plain sleeper, every one of them holding the marker in its command line
# (`sleep MARKER` sleeps for it). Each is running before `ready` is written.
SPAWN = """\
import os, signal, subprocess, sys, time
marker, ready = sys.argv[1], sys.argv[2]
if "HANG" not in open("calc.py").read():
    sys.exit(0)
SLEEP = "import signal, sys, time; {ignore} print('up', flush=True); time.sleep(float(sys.argv[1]))"
def child(*argv, ignore=""):
    p = subprocess.Popen([*argv, sys.executable, "-c", SLEEP.format(ignore=ignore), marker], stdout=subprocess.PIPE)
    p.stdout.readline()
child(ignore="signal.signal(signal.SIGTERM, signal.SIG_IGN);")
child("setsid")
child()
subprocess.Popen(["setsid", "sleep", marker])
up_r, up_w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(up_w, b"up")
        time.sleep(float(marker))
    os._exit(0)
os.read(up_r, 2)
open(ready, "w").write("ready")
time.sleep(float(marker))
"""
SPAWNED = 6  # the script, its three python children, setsid sleep, the double-forked one


def marked(marker: str) -> list[int]:
    """The living processes whose command line holds `marker` (a zombie's is empty)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError):
                if marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0"):
                    found.append(int(name))
    return found


@pytest.fixture
def marker() -> str:
    """Unique to the test, and a number of seconds `sleep` takes (longer than any wait)."""
    value = f"{FOREVER:.0f}.{random.randrange(10**8, 10**9)}"
    yield value
    for pid in marked(value):  # a failed test leaves nothing running either
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def edits(**settings: object):
    """`[edits]` with the commands given and no other (none found in the project)."""
    return replace(Config().edits, **{"lint_cmd": "", "test_cmd": "", **settings})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": CALC, "spawn.py": SPAWN})


def spawner(marker: str, ready: Path) -> str:
    return f"{sys.executable} spawn.py {marker} {ready}"


# -- killed whole ----------------------------------------------------------------------


def test_a_timed_out_check_leaves_no_process_behind(repo: Path, tmp_path: Path, marker: str) -> None:
    ready = tmp_path / "ready"
    for timeout in (4, 16, 64):  # a loaded machine may need longer to start every child: then again
        config = edits(lint_cmd=spawner(marker, ready), check_timeout=timeout)
        [outcome] = run_checks(repo, [FileChange("calc.py", CALC, HANG)], config, threading.Event())
        assert outcome.status == "timed out"
        wait_until(lambda: not marked(marker), "every process the check started is gone")
        if ready.exists():
            return
    pytest.fail("the check's children never all ran before its timeout")


def test_a_cancelled_check_leaves_no_process_behind(repo: Path, tmp_path: Path, marker: str) -> None:
    ready = tmp_path / "ready"
    cancel = threading.Event()

    def cancel_once_spawned() -> None:  # as Ctrl+C and Esc do
        wait_until(lambda: ready.exists() and len(marked(marker)) >= SPAWNED, "the check's children run")
        cancel.set()

    threading.Thread(target=cancel_once_spawned, daemon=True).start()
    config = edits(lint_cmd=spawner(marker, ready), check_timeout=FOREVER)
    [outcome] = run_checks(repo, [FileChange("calc.py", CALC, HANG)], config, cancel)
    assert outcome.status == "cancelled"
    wait_until(lambda: not marked(marker), "every process the check started is gone")


def test_what_a_command_leaves_running_when_it_exits_is_ended(tmp_path: Path, marker: str) -> None:
    # A daemon in a session of its own, with no environment at all (so no marker either):
    # the supervisor, its subreaper, still has it in its tree.
    result = sandbox.run(f"setsid env -i sleep {marker} & echo started", tmp_path, timeout=FOREVER,
                         cancel=threading.Event())
    assert (result.status, result.exit_code, result.output) == ("exited", 0, "started")
    wait_until(lambda: not marked(marker), "the daemon it left is gone")


def test_a_command_that_kills_its_supervisor_is_swept_by_its_marker(tmp_path: Path, marker: str) -> None:
    result = sandbox.run(f"setsid sleep {marker} & sleep {marker} & kill -9 $PPID; wait", tmp_path,
                         timeout=FOREVER, cancel=threading.Event())
    assert result.status == "exited" and result.exit_code == -signal.SIGKILL
    wait_until(lambda: not marked(marker), "what it started is gone")


def test_a_check_ends_with_the_app_and_the_next_start_sweeps_an_orphan(repo: Path, marker: str) -> None:
    """The app SIGKILLed mid-check: its supervisor ends the check; were the supervisor
    gone too, the next start's cleanup ends what is left, by the run's marker."""
    paths = Paths.resolve()
    scratch = paths.data_dir / "scratch"
    code = (
        "import threading, sys\n"
        "from pathlib import Path\n"
        "from dataclasses import replace\n"
        "from assistant.core.config import Config\n"
        "from assistant.core.edits.checks import run_checks\n"
        "from assistant.core.edits.types import FileChange\n"
        f"edits = replace(Config().edits, lint_cmd='exec sleep {marker}', check_timeout=600)\n"
        "run_checks(Path(sys.argv[1]), [FileChange('calc.py', None, 'x = 1\\n')], edits, threading.Event())\n"
    )
    for freeze_supervisor in (False, True):
        app = subprocess.Popen([sys.executable, "-c", code, str(repo)])
        wait_until(lambda: any(scratch.glob("*/check.pgid")) and marked(marker), "the check runs")
        [named] = scratch.glob("*/check.pgid")
        supervisor = int(named.read_text())
        if freeze_supervisor:  # it cannot end the check now
            os.kill(supervisor, signal.SIGSTOP)
        app.kill()
        app.wait()
        if freeze_supervisor:
            os.kill(supervisor, signal.SIGKILL)
            assert marked(marker), "the check outlived its app and its supervisor"
        else:
            wait_until(lambda: not marked(marker), "the check ended with its app")
        [removed] = cleanup_scratch(paths)
        assert not removed.exists() and not marked(marker)


# -- no secrets ------------------------------------------------------------------------


def test_a_check_sees_no_secret_and_only_the_allowed_variables(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "MY_SECRET", "DB_PASSWORD", "AWS_CREDENTIALS", "OTHER"):
        monkeypatch.setenv(name, "leaked")
    monkeypatch.setenv("PROJECT_SETTING", "passed")
    monkeypatch.setenv("LC_TIME", "C")
    # A secret added to the allow-list by mistake is still held back (the second guard).
    monkeypatch.setattr(sandbox, "ALLOWED", (*sandbox.ALLOWED, "MY_SECRET"))
    dump = tmp_path / "env.txt"
    config = edits(lint_cmd=f"env > {dump}", check_env=("PROJECT_SETTING",))
    [outcome] = run_checks(repo, [FileChange("calc.py", CALC, CALC + "\n")], config, threading.Event())
    assert outcome.status == "passed"
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert not [n for n in seen if any(w in n.upper() for w in ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"))]
    assert "leaked" not in seen.values() and "OTHER" not in seen
    assert seen["PROJECT_SETTING"] == "passed" and seen["LC_TIME"] == "C" and seen["PATH"] == os.environ["PATH"]
    scratch = Paths.resolve().data_dir / "scratch"
    tmp = Path(seen["TMPDIR"])
    assert tmp.is_relative_to(scratch) and seen["TMP"] == seen["TEMP"] == str(tmp) and not tmp.exists()


NAMES = st.text(st.sampled_from("ABCKEYTOKNSRPWDLC_xyz0"), min_size=1, max_size=12)


@given(st.dictionaries(NAMES, st.text(max_size=5)), st.lists(NAMES, max_size=4))
def test_the_environment_is_the_allow_list_and_never_a_secret(source: dict[str, str], extra: list[str]) -> None:
    passed = sandbox.environment(extra, source)
    for name, value in passed.items():
        assert source[name] == value and not sandbox.secret_name(name)
        assert name in sandbox.ALLOWED or name.startswith("LC_") or name in extra


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "my_api_key", "Db_Password", "AWS_CREDENTIALS", "SECRET", "DB_PASS", "SSH_AUTH_SOCK", "NPM_AUTH"])
def test_a_secret_in_check_env_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(f'[edits]\ncheck_env = ["PROJECT", "{name}"]\n', "config.toml")
    said = str(info.value)
    assert "\n" not in said and said.startswith("config.toml: edits.check_env:") and name in said
    assert "credential" in said


def test_check_env_takes_plain_names_and_refuses_anything_else() -> None:
    assert parse('[edits]\ncheck_env = ["PROJECT", "LC_ALL"]\n', "f").edits.check_env == ("PROJECT", "LC_ALL")
    with pytest.raises(ConfigError, match="f: edits.check_env: 'A=B' is not an environment variable's name"):
        parse('[edits]\ncheck_env = ["A=B"]\n', "f")


# -- limits ----------------------------------------------------------------------------


def test_a_check_runs_under_the_configured_limits(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "limits.txt"
    config = edits(lint_cmd=f"cat /proc/self/limits > {seen}", check_memory_mib=3000, check_file_mib=500)
    [outcome] = run_checks(repo, [FileChange("calc.py", CALC, CALC + "\n")], config, threading.Event())
    assert outcome.status == "passed"
    limits = {line[:26].strip(): line[26:].split()[:2] for line in seen.read_text().splitlines()[1:]}
    assert limits["Max data size"] == [str(3000 * 2**20)] * 2
    assert limits["Max file size"] == [str(500 * 2**20)] * 2
    assert limits["Max core file size"] == ["0", "0"]
    assert all(v.isdigit() for v in limits["Max cpu time"] + limits["Max processes"])


def test_a_check_that_writes_past_its_file_limit_or_allocates_past_its_memory_fails(repo: Path) -> None:
    big_file = "head -c 3000000 /dev/zero > big.bin"
    big_memory = f"{sys.executable} -c \"b = bytearray(300 * 2**20)\""
    config = edits(lint_cmd=big_file, test_cmd=big_memory, check_file_mib=2, check_memory_mib=200)
    lint, tests = run_checks(repo, [FileChange("calc.py", CALC, CALC + "\n")], config, threading.Event())
    # Both fail before the edit too: the limits, not the edit, stop them.
    assert (lint.status, tests.status) == ("failed before", "failed before")
    assert "MemoryError" in tests.output


# -- bounded output --------------------------------------------------------------------


def test_eighty_megabytes_of_output_keep_memory_bounded(repo: Path) -> None:
    """In a process of its own, so its peak resident memory is the check's: the old
    reader held the whole output (about 6x its size)."""
    size = 80 * 2**20
    shout = f"{sys.executable} -c \"import sys; sys.stdout.buffer.write((b'x' * 79 + b'\\\\n') * {size // 80})\"; exit 1"
    code = (
        "import json, resource, sys, threading\n"
        "from pathlib import Path\n"
        "from dataclasses import replace\n"
        "from assistant.core.config import Config\n"
        "from assistant.core.edits.checks import run_checks\n"
        "from assistant.core.edits.types import FileChange\n"
        "edits = replace(Config().edits, lint_cmd=sys.argv[2], check_timeout=600)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "[o] = run_checks(Path(sys.argv[1]), [FileChange('new.py', None, 'x = 1\\n')], edits, threading.Event())\n"
        "grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
        "print(json.dumps({'status': o.status, 'grown_kib': grown, 'output': o.output}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(repo), shout], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert seen["status"] == "failed before"
    lines = seen["output"].splitlines()
    assert len(lines) == 20 + 1 + 5 and lines[20] == "…" and set(lines[:20] + lines[21:]) == {"x" * 79}
    assert seen["grown_kib"] * 1024 < size / 8, f"{seen['grown_kib']} KiB for {size // 2**20} MiB of output"


CHUNKS = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\x00", b"\n")), max_size=30)
TEXTISH = st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b"\xc3\xa9", b"\xc3", b"\x0c", b""]), max_size=60)


@given(st.one_of(CHUNKS, TEXTISH.map(lambda parts: [b"".join(parts[i : i + 7]) for i in range(0, len(parts), 7)])),
       st.integers(0, 6), st.integers(0, 6))
def test_bounded_output_keeps_what_the_whole_text_would_give(chunks: list[bytes], head: int, tail: int) -> None:
    kept = sandbox.BoundedOutput(head, tail, line_bytes=10**6)
    for chunk in chunks:
        kept.feed(chunk)
    lines = b"".join(chunks).decode("utf-8", "replace").splitlines()
    expected = lines if len(lines) <= head + tail else [*lines[:head], "…", *lines[len(lines) - tail :]]
    assert kept.text() == "\n".join(expected)


def test_a_line_without_end_is_cut_and_memory_stays_bounded() -> None:
    kept = sandbox.BoundedOutput(2, 1, line_bytes=100)
    for _ in range(1000):
        kept.feed(b"y" * 10_000)
    assert len(kept._partial) <= 100
    assert kept.text() == "y" * 100 + " …"


# -- the scratch copy ------------------------------------------------------------------


@pytest.mark.parametrize("tracked", [True, False], ids=["git", "no git"])
def test_an_absolute_symlink_inside_the_project_applies_in_the_copy(tmp_path: Path, tracked: bool) -> None:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "alias").symlink_to(root / "src")  # absolute: /…/proj/src
    if tracked:
        make_repo(root, {"src/calc.py": CALC})
        git(root, "add", "alias")
        git(root, "commit", "-qm", "link")
    else:
        (root / "src" / "calc.py").write_text(CALC)
    edit = FileChange("alias/calc.py", CALC, CALC.replace("a + b", "b + a"))
    config = edits(lint_cmd="grep -q 'b + a' src/calc.py")
    [outcome] = run_checks(root, [edit], config, threading.Event())
    # It fails on the unchanged copy, passes on the edited one: the edit went through the link.
    assert outcome.status == "passed"
    assert (root / "src" / "calc.py").read_text() == CALC


def test_a_symlink_leading_outside_stays_refused_with_checks_as_without(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "calc.py").write_text(CALC)
    root = make_repo(tmp_path / "proj", {"calc.py": CALC})
    (root / "out").symlink_to(outside)
    edit = FileChange("out/calc.py", CALC, CALC + "\n")
    with pytest.raises(UnsafePath, match="leads outside the project"):
        run_checks(root, [edit], edits(lint_cmd="true"), threading.Event())
    with pytest.raises(UnsafePath, match="leads outside the project"):
        apply_changes(root, [edit])
    assert (outside / "calc.py").read_text() == CALC


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Path:
    """A 64 KiB tmpfs (mounting needs root; skipped otherwise)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_while_copying_says_so(tmp_path: Path, tiny_disk: Path) -> None:
    big = "".join(f"X{i} = {i}\n" for i in range(20_000))  # about 200 KB: more than the disk holds
    root = make_repo(tmp_path / "proj", {"calc.py": big})
    paths = Paths(tmp_path / "config", tiny_disk, tmp_path / "logs")
    config = edits(lint_cmd="true", test_cmd="true")
    outcomes = run_checks(root, [FileChange("calc.py", big, big + "Y = 1\n")], config, threading.Event(), paths=paths)
    assert [(o.name, o.status) for o in outcomes] == [("lint", "could not run"), ("tests", "could not run")]
    assert all("No space left on device" in o.output and "calc.py" in o.output for o in outcomes)
    assert list((tiny_disk / "scratch").iterdir()) == []

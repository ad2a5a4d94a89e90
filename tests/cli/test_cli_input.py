"""What `assistant ask` and the reading commands do with whatever they are given:
bytes that are not UTF-8, a megabyte on stdin, Ctrl+C mid-answer, a Claude that
cannot answer, a broken config, a ledger that cannot be written, a full disk."""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

import assistant.core.plugins as plugins
from assistant.backends.scripted import ScriptedBackend
from assistant.cli import main
from assistant.core.session import pool as backend_pool
from assistant.core.store.ledger import Ledger, TurnRecord
from tests.conftest import TEST_KEY
from tests.fake_anthropic import OVERLOADED, Answer, FakeAnthropic, closed_port_url
from tests.linear import assert_linear
from tests.patience import PATIENCE

REAL_CREATE = plugins.create_backend


@contextlib.contextmanager
def scripted_local(backend: ScriptedBackend):  # noqa: ANN201 - a patch context
    """`create_backend` with the local model replaced by `backend` (Claude stays real),
    where `ask` calls it and where the router's backend pool does."""

    def create(config, name=None):  # noqa: ANN001, ANN202
        name = name or config.general.backend
        return backend if name == "local" else REAL_CREATE(config, name)

    with mock.patch.object(plugins, "create_backend", create), mock.patch.object(backend_pool, "create_backend", create):
        yield


def piped(data: bytes) -> io.TextIOWrapper:
    """stdin as Python opens a pipe in a C locale: bytes decoded with surrogateescape."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")


def ask(*argv: str, stdin: bytes | None = None, backend: ScriptedBackend | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    local = backend if backend is not None else ScriptedBackend(["Fine."], name="local")
    with scripted_local(local), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with mock.patch.object(sys, "stdin", piped(stdin if stdin is not None else b"")):
            code = main(["ask", *argv])
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def all_turns() -> list[TurnRecord]:
    with Ledger.open() as ledger:
        return ledger.turns()


# -- item 7: bytes that are not UTF-8 ----------------------------------------------


def test_a_byte_that_is_not_utf8_on_stdin_is_answered_and_recorded() -> None:
    code, out, err = ask("--backend", "local", stdin=b"hi \xff there\n")
    assert code == 0, err
    assert out == "Fine.\n"
    [turn] = all_turns()
    assert turn.outcome == "ok"
    with Ledger.open() as ledger:
        [session] = ledger.sessions()
    assert session.title.startswith("hi \ufffd there")


def test_argv_words_decoded_with_surrogateescape_are_cleaned() -> None:
    backend = ScriptedBackend(["Fine."], name="local")
    code, _, err = ask("--backend", "local", "caf\udcc3 \udcff?", backend=backend)
    assert code == 0, err
    sent = backend.seen[0][-1].content
    assert "\ufffd" in sent and not any("\ud800" <= c <= "\udfff" for c in sent)
    assert len(all_turns()) == 1


@given(st.binary(max_size=2000))
def test_piped_stdin_of_any_bytes_is_an_answer_or_one_line(data: bytes) -> None:
    code, out, err = ask("--backend", "local", stdin=data)
    if code == 0:
        assert out == "Fine.\n"
    else:
        assert code in (1, 2)
        assert one_line(err).startswith("assistant: ")


def test_a_megabyte_prompt_is_refused_quickly_before_any_model_call() -> None:
    backend = ScriptedBackend(["Fine."], name="local")
    start = time.process_time()  # CPU time: other processes' load does not count
    code, out, err = ask("--backend", "local", stdin=b"word " * 200_000, backend=backend)
    elapsed = time.process_time() - start
    assert code == 1 and out == ""
    assert "context of 4,096" in one_line(err) and "shorten the message" in one_line(err)
    assert backend.seen == []
    # A guard against a stall, ~60x the ~0.15 s a working machine takes; how the cost grows
    # is test_refusing_a_long_prompt_takes_linear_time's to check.
    assert elapsed < 10.0


@pytest.mark.slow
def test_refusing_a_long_prompt_takes_linear_time() -> None:
    assert_linear(
        lambda data: ask("--backend", "local", stdin=data),
        lambda n: b"word " * n,
        sizes=(50_000, 100_000, 200_000),
        repeats=1,
    )


# -- item 11a: a fixed Claude falls back to local -----------------------------------


def claude_flags(base_url: str) -> list[str]:
    return [
        "--backend", "claude",
        "--set", f"backends.claude.base_url={base_url}",
        "--set", f"backends.claude.api_key={TEST_KEY}",
        "--set", "backends.claude.max_retries=0",
        "--set", "backends.claude.connect_timeout=2",
    ]


def test_backend_claude_overloaded_is_answered_by_local(fake: FakeAnthropic) -> None:
    fake.enqueue(OVERLOADED)
    code, out, err = ask(*claude_flags(fake.base_url), "hello?")
    assert code == 0, err
    assert out == "Fine.\n"
    notice = [line for line in err.splitlines() if "instead" in line]
    assert len(notice) == 1 and notice[0].startswith("assistant: ")
    assert [t.backend for t in all_turns()] == ["claude", "local"]


def test_backend_claude_refused_connection_is_answered_by_local() -> None:
    code, out, err = ask(*claude_flags(closed_port_url()), "hello?")
    assert code == 0, err
    assert out == "Fine.\n"
    assert [t.backend for t in all_turns()][-1] == "local"


def test_backend_claude_without_fallback_fails_in_one_line(fake: FakeAnthropic) -> None:
    fake.enqueue(OVERLOADED)
    code, out, err = ask(*claude_flags(fake.base_url), "--set", "router.fallback=[]", "hello?")
    assert code == 1 and out == ""
    assert [t.backend for t in all_turns()] == ["claude"]


# -- item 11b: Ctrl+C -------------------------------------------------------------


def test_ctrl_c_during_ask_ends_the_turn_as_esc_does_and_records_it(assistant_home: Path) -> None:
    with FakeAnthropic(api_key=TEST_KEY, tokens_per_second=20) as slow:
        slow.enqueue(Answer(" ".join(f"word{i}" for i in range(400))))
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "ask", *claude_flags(slow.base_url), "tell me a long story"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "ASSISTANT_HOME": str(assistant_home)},
        )
        assert proc.stdout is not None
        first = proc.stdout.read(10)  # the answer has started streaming
        assert first
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 130, err
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("assistant: cancelled")
    assert "Traceback" not in err.decode()
    [turn] = all_turns()
    assert turn.outcome == "cancelled" and turn.backend == "claude"
    assert 0 < turn.completion_tokens < 400
    assert (first + rest).decode().startswith("word0 word")  # the partial answer stays on stdout


# -- issue 24: an output encoding that cannot hold the answer ---------------------------


def test_an_answer_the_output_encoding_cannot_hold_is_printed_with_replacements(assistant_home: Path) -> None:
    with FakeAnthropic(api_key=TEST_KEY) as claude:
        claude.enqueue(Answer("Un café, s’il vous plaît."))
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ask", *claude_flags(claude.base_url), "coffee in French?"],
            capture_output=True, timeout=PATIENCE,
            env={**os.environ, "ASSISTANT_HOME": str(assistant_home), "PYTHONIOENCODING": "ascii",
                 "LANG": "C", "LC_ALL": "C"},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"Un caf?, s?il vous pla?t.\n"
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr
    [turn] = all_turns()
    assert turn.outcome == "ok" and turn.backend == "claude"


# -- issue 24: a config file that is not a file -------------------------------------------


@pytest.mark.parametrize("command", [["cost"], ["ask", "hi"]])
def test_a_config_file_that_is_a_fifo_is_one_line_not_a_hang(assistant_home: Path, command: list[str]) -> None:
    config = assistant_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    os.mkfifo(config)  # a plain open would wait for a writer for ever
    done = subprocess.run(
        [sys.executable, "-m", "assistant", *command], capture_output=True, text=True, timeout=PATIENCE,
        env={**os.environ, "ASSISTANT_HOME": str(assistant_home)},
    )
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith("assistant: config error: ") and "config.toml" in line and "a FIFO" in line


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: p.mkdir(), "a directory, not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "a device, not a regular file"),
        (lambda p: p.write_bytes(b"x" * (1 << 20) + b"x"), "larger than 1024 KiB"),
        (lambda p: p.write_bytes(b"\xff\xfe"), "not UTF-8"),
    ],
    ids=["directory", "dev-zero", "too-large", "not-utf8"],
)
def test_every_config_file_that_cannot_be_read_is_one_line(assistant_home: Path, make, said: str, capsys) -> None:  # noqa: ANN001
    config = assistant_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    make(config)
    assert main(["cost"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("assistant: config error: ") and said in line


# -- item 11e: every command reads the config ---------------------------------------


@pytest.mark.parametrize("command", [["cost"], ["sessions"], ["export", "x"], ["report"]])
def test_reading_commands_exit_2_on_a_broken_config(assistant_home: Path, command: list[str], capsys) -> None:
    config = assistant_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[local]\ntemperature = nan\n")
    assert main(command) == 2
    line = one_line(capsys.readouterr().err)
    assert "local.temperature" in line and "nan" in line and "from 0 to 2" in line


# -- item 11d: numbers in range, from every source ------------------------------------


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--set", "local.n_ctx=1e23", "config"], "backends.local.n_ctx"),  # the old layout's name, read as the new
        (["--n-ctx", "100000000000", "config"], "backends.local.n_ctx"),
        (["--temperature", "nan", "config"], "backends.local.temperature"),
        (["config", "--set", "backends.claude.read_timeout=inf"], "backends.claude.read_timeout"),
        (["--set", "cost.local_machine_per_hour=-1", "config"], "cost.local_machine_per_hour"),
        (["--max-tokens", "0", "config"], "backends.local.max_tokens"),
    ],
)
def test_a_number_out_of_range_is_a_usage_error_naming_key_value_and_range(argv, named, capsys) -> None:  # noqa: ANN001
    assert main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("assistant: config error: command line: " + named)
    assert "got " in line and (" from " in line or "at least" in line)


# -- item 11c: a ledger that cannot be written -----------------------------------------


def ledger_with_a_turn() -> Path:
    with Ledger.open() as ledger:
        ledger.start_session("s1", started_at=1_796_000_000.0, cwd="/w", title="first")
        ledger.record_turn(TurnRecord("s1", 1_796_000_000.0, "local", "SmolLM2", "ok", cost=0.0, prompt_tokens=10))
        ledger.record_turn(TurnRecord("s1", 1_796_000_060.0, "claude", "claude-sonnet-5-5", "ok", cost=0.01))
        from assistant.core.conversation import Exchange, Message
        from assistant.core.store import saved_sessions as session_store

        session_store.append_exchange(ledger, "s1", session_store.StoredExchange(
            Exchange(Message("user", "q"), Message("assistant", "a"))))
        return ledger.path


def read_only_disk():  # noqa: ANN201 - a patch context
    """Every SQLite open behaves as on a file that cannot be written (root ignores
    chmod, so the file is opened with SQLite's own read-only mode)."""
    real = sqlite3.connect

    def connect(database, *args, uri=False, **kwargs):  # noqa: ANN001, ANN202
        if not uri:
            database, uri = f"file:{Path(database).absolute()}?mode=ro", True
        elif "mode=ro" not in str(database):
            database = f"{database}&mode=ro" if "?" in str(database) else f"{database}?mode=ro"
        return real(database, *args, uri=uri, **kwargs)

    return mock.patch("assistant.core.store.ledger.sqlite3.connect", connect)


@pytest.mark.parametrize("command", [["cost", "--all", "--json"], ["report", "--all", "--json"], ["sessions"]])
def test_reading_commands_read_a_ledger_that_cannot_be_written(command: list[str], capsys) -> None:
    path = ledger_with_a_turn()
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    with read_only_disk():
        code = main(command)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip()
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


def test_cost_reads_a_ledger_whose_wal_cannot_be_made(capsys) -> None:
    path = ledger_with_a_turn()
    Path(f"{path}-wal").mkdir()  # SQLite cannot create its -wal file: no normal open works
    Path(f"{path}-shm").mkdir()
    assert main(["cost", "--all", "--json"]) == 0, capsys.readouterr().err
    assert '"turns": 2' in capsys.readouterr().out


def test_a_garbage_ledger_is_one_line_and_exit_1(assistant_home: Path, capsys) -> None:
    path = assistant_home / "data" / "ledger.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    for command in (["cost", "--all"], ["sessions"], ["report", "--all"]):
        assert main(command) == 1
        assert "ledger" in one_line(capsys.readouterr().err)


# -- item 9: a full disk --------------------------------------------------------------


def test_an_empty_ledger_file_left_by_a_full_disk_reads_as_nothing_recorded(assistant_home: Path, capsys) -> None:
    """SQLite makes the file before it fails to write to it: a full disk leaves an
    empty ledger, which is "nothing recorded yet", not "made by an older version"."""
    path = assistant_home / "data" / "ledger.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    assert main(["sessions"]) == 0
    assert "no stored chats yet" in capsys.readouterr().out
    for command in (["cost"], ["report"]):
        assert main(command) == 0
        shown = capsys.readouterr()
        assert shown.err == "" and "older version" not in shown.out and "no turns recorded" in shown.out
    assert path.read_bytes() == b""



def test_a_full_log_file_is_said_once_in_one_line(assistant_home: Path, capsys) -> None:
    import logging

    from assistant.core.logs import setup_logging
    from assistant.core.paths import Paths

    paths = Paths.resolve()
    paths.log_dir.mkdir(parents=True)
    paths.log_file.symlink_to("/dev/full")
    setup_logging(paths)
    for i in range(5):
        logging.getLogger("assistant.x").warning("record %d", i)
    err = capsys.readouterr().err
    assert "Logging error" not in err
    assert "No space left on device" in one_line(err)


def test_a_log_folder_that_cannot_be_made_is_silent(assistant_home: Path, capsys) -> None:
    import logging

    from assistant.core.logs import setup_logging
    from assistant.core.paths import Paths

    blocker = assistant_home / "file"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file, not a folder")
    setup_logging(Paths(assistant_home / "c", assistant_home / "d", blocker / "logs"))
    logging.getLogger("assistant.x").warning("nowhere to go")
    assert capsys.readouterr().err == ""


def test_a_calibration_write_that_fails_leaves_no_temp_file(tmp_path: Path, monkeypatch, caplog) -> None:  # noqa: ANN001
    from assistant.core.window import offline_tokens as tokens

    def full(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    from assistant.core import atomic

    calibration = tokens.TokenCalibration(tmp_path / tokens.CALIBRATION_FILE)
    monkeypatch.setattr(atomic.os, "fsync", full)  # the disk is full by the time the bytes go down
    assert calibration.learn("m", 120, 100) is not None  # the turn goes on
    assert calibration.learn("m", 130, 100) is not None
    assert list(tmp_path.iterdir()) == []
    assert calibration.estimate("m", 100).tokens >= 120  # still learned, in memory


def test_stale_calibration_temps_are_removed_on_start(tmp_path: Path) -> None:
    from assistant.core.window import offline_tokens as tokens

    from assistant.core.atomic import TEMP_PREFIX

    stale = tmp_path / f"{TEMP_PREFIX}abc-{tokens.CALIBRATION_FILE}"
    fresh = tmp_path / f"{TEMP_PREFIX}def-{tokens.CALIBRATION_FILE}"
    stale.write_text("")
    fresh.write_text("")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    tokens.TokenCalibration(tmp_path / tokens.CALIBRATION_FILE)
    assert not stale.exists() and fresh.exists()  # a fresh one may be another process's write


def test_a_session_whose_turn_thread_raises_reports_it() -> None:
    """The worker thread hands an unexpected failure back to the main thread."""
    from assistant.cli.interrupt import run_interruptibly as _run_interruptibly

    def boom() -> None:
        raise RuntimeError("in the worker")

    with pytest.raises(RuntimeError, match="in the worker"):
        _run_interruptibly(boom, threading.Event())


def test_a_stop_signal_cancels_the_work_however_it_lands_and_the_old_handlers_come_back() -> None:
    """Many runs, each with Ctrl+C, SIGTERM or SIGHUP sent at a random moment of the
    waiting loop: every one asks the work to stop, says which signal did, and none
    escapes as an exception."""
    import random

    from assistant.cli.interrupt import STOP_SIGNALS, run_interruptibly

    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for _ in range(20):
        cancel = threading.Event()
        signum = random.choice(STOP_SIGNALS)

        def work() -> str:
            time.sleep(random.uniform(0, 0.3))
            os.kill(os.getpid(), signum)  # noqa: B023 - run before the loop moves on
            return "stopped" if cancel.wait(PATIENCE) else "never asked"

        assert run_interruptibly(work, cancel) == ("stopped", signum)
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before


def test_an_error_nothing_handled_is_one_line_with_the_log_named(monkeypatch, capsys) -> None:
    """A bug of ours must not greet a person with a traceback: one line, the details in the log."""
    import assistant.cli.commands as cli
    import assistant.cli.routers as routers

    def broken(paths, args):  # noqa: ANN001, ANN202
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(routers, "cmd_routers", broken)
    assert cli.main(["routers"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("assistant: internal error: RuntimeError: boom second line") and "assistant.log" in err


def subcommands() -> dict[str, argparse.ArgumentParser]:
    from assistant.cli.parser import build_parser

    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    return sub.choices


def test_every_subcommand_is_in_the_dispatch_table_and_resolves() -> None:
    """One parser tree, one table: each subcommand the parser knows runs a function of its module."""
    import assistant.cli.commands as cli

    assert set(subcommands()) | {None} == set(cli.COMMANDS)
    for name in cli.COMMANDS:
        assert callable(cli.command(name))


def test_every_subcommand_with_setting_flags_has_the_same_group() -> None:
    """One group of setting flags, the same wherever it is added; `bench` and `eval` leave out
    those that pick the backend (their own `--backend` names what to measure) or shape the answer."""
    def settings(parser: argparse.ArgumentParser) -> list[tuple[str, str, str | None]]:
        [group] = [g for g in parser._action_groups if g.title.startswith("settings")]  # noqa: SLF001
        return [(a.option_strings[0], a.dest, a.help) for a in group._group_actions]  # noqa: SLF001

    groups = {name: settings(p) for name, p in subcommands().items() if "--set" in p._option_string_actions}  # noqa: SLF001
    assert set(groups) == {"ask", "bench", "config", "cost", "eval", "plan", "refactor", "report", "routers", "servers"}
    full = groups.pop("ask")
    assert [flag for flag, _, _ in full] == ["--backend", "--model", "--n-ctx", "--n-gpu-layers", "--n-threads",
                                             "--max-tokens", "--temperature", "--set"]  # fmt: skip
    for measuring in ("bench", "eval"):
        assert groups.pop(measuring) == [f for f in full if f[0] not in ("--backend", "--max-tokens", "--temperature")]
    assert all(group == full for group in groups.values())


def test_the_command_line_imports_no_subcommand_for_help(tmp_path) -> None:  # noqa: ANN001
    code = ("import sys, assistant.cli.commands as c\n"
            "mods = [m for m in sys.modules if m.startswith('assistant.cli.') and m.split('.')[-1] not in "
            "('commands', 'context', 'exits', 'interrupt', 'parser')]\n"
            "print(sorted(mods))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_why_prints_the_route_and_every_candidate_with_its_quality_on_the_turn_s_kind() -> None:
    code, out, err = ask("--why", "--backend", "auto", "write a function that adds two numbers")
    assert code == 0 and out.strip() == "Fine."
    lines = err.strip().splitlines()
    assert lines[0].startswith("route: code · rules: ")
    candidates = [line.strip() for line in lines[1:] if line.startswith("  ")]
    assert sorted(c[:8] for c in candidates) == ["claude: ", "→ local:"]
    assert all("code quality not enough data (0 rated)" in c for c in candidates)


def test_a_bad_plugin_setting_in_the_file_starts_the_tui_with_the_defaults_and_says_why(tmp_path: Path) -> None:
    from assistant.cli.tui import read_config
    from assistant.core.config import Config
    from assistant.core.paths import Paths

    paths = Paths(config_dir=tmp_path, data_dir=tmp_path / "data", log_dir=tmp_path / "log")
    paths.config_file.write_text("[general]\nsystem_prompt = \"hi\"\n\n[backends.local]\nn_ctx = 1\n")
    config, error = read_config(paths)
    assert config == Config() and error is not None
    assert "backends.local" in error and "n_ctx" in error and "\n" not in error
    paths.config_file.write_text("[general]\nsystem_prompt = \"hi\"\n")
    assert read_config(paths) == (Config().with_overrides({"general.system_prompt": "hi"}), None)


def test_bare_assistant_parses_as_the_whole_parser_tree_would() -> None:
    """`assistant` alone skips building the subcommands' parsers: the same settings all the same."""
    from assistant.cli.parser import build_parser, parse_command_line

    assert parse_command_line([]) == build_parser().parse_args([])
    assert parse_command_line([]).command is None
    assert parse_command_line(["--model", "ask"]) == build_parser().parse_args(["--model", "ask"])

"""SIGTERM and SIGHUP end a command as Ctrl+C does (cli/interrupt.py): CI timeouts and
service managers send TERM, a closed terminal HUP. An `ask` they stop in the middle of
an answer still writes its final JSON and records its turn, cancelled; the TUI quits
as Ctrl+Q does, with the turn recorded and the terminal given back as it was.

The answers here stall FOREVER after a few tokens (tests/fake_anthropic.py), so that a
signal always lands in the middle of one, and only the signal can end it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from assistant.cli.exits import exit_interrupted
from assistant.core.store.ledger import Ledger
from tests.cli.test_ask_json import valid
from tests.cli.test_cli_input import all_turns, claude_flags
from tests.conftest import TEST_KEY
from tests.fake_anthropic import FakeAnthropic, Stall
from tests.patience import FOREVER, PATIENCE, wait_until

# Only the signal may end the stalled answer: no read timeout, no fallback, no retry.
PATIENT_CLAUDE = ["--set", f"backends.claude.read_timeout={FOREVER:.0f}", "--set", "router.fallback=[]"]


def stalled_claude() -> FakeAnthropic:
    fake = FakeAnthropic(api_key=TEST_KEY)
    fake.enqueue(Stall(after_tokens=3, seconds=FOREVER))
    return fake


def environment(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_HOME": str(home), **extra}


@pytest.mark.parametrize(
    ("signum", "shape"),
    [(signal.SIGTERM, "--stream-json"), (signal.SIGHUP, "--stream-json"), (signal.SIGTERM, "--json")],
    ids=["TERM-stream-json", "HUP-stream-json", "TERM-json"],
)
def test_a_stop_signal_during_ask_ends_the_turn_as_ctrl_c_does(assistant_home: Path, signum: int, shape: str) -> None:
    with stalled_claude() as claude:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "ask", shape, *claude_flags(claude.base_url), *PATIENT_CLAUDE,
             "tell me a long story"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(assistant_home),
        )  # fmt: skip
        assert proc.stdout is not None
        first = ""
        if shape == "--stream-json":  # the answer has started streaming
            texts = (json.loads(line) for line in iter(proc.stdout.readline, b""))
            first = next((o["text"] for o in texts if o["type"] == "text"), "")
            assert first, proc.communicate(timeout=PATIENCE)
        wait_until(lambda: claude.stalls, "the answer stalls, three tokens in")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=PATIENCE)
    said = err.decode()
    assert proc.returncode == 128 + signum == exit_interrupted(signum), said
    assert "Traceback" not in said
    assert said.strip().splitlines()[-1].startswith(f"assistant: cancelled ({signal.Signals(signum).name})")
    done = valid(json.loads(out.decode().splitlines()[-1]))
    assert done["type"] == "done" and done["outcome"] == "cancelled" and done["answer"].startswith(first)
    [turn] = all_turns()
    assert turn.outcome == "cancelled" and turn.backend == "claude" and turn.session_id == done["session_id"]


def test_the_exit_code_of_a_signal_is_the_shell_s() -> None:
    assert [exit_interrupted(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)] == [130, 143, 129]


def test_a_stop_signal_outside_the_answer_ends_the_command_with_its_exit_code(monkeypatch, capsys) -> None:  # noqa: ANN001
    """Between turns (loading, writing, a refactor's review) TERM raises where Ctrl+C
    raises KeyboardInterrupt, so every command's Ctrl+C clean-up runs for it too."""
    import assistant.cli.commands as cli
    import assistant.cli.routers as routers

    before = signal.getsignal(signal.SIGTERM)
    cleaned_up: list[str] = []

    def terminated(paths, args):  # noqa: ANN001, ANN202
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            threading.Event().wait(PATIENCE)  # the handler raises here
        except KeyboardInterrupt:
            cleaned_up.append("yes")
            raise
        return 0

    monkeypatch.setattr(routers, "cmd_routers", terminated)
    assert cli.main(["routers"]) == 143
    assert cleaned_up == ["yes"] and signal.getsignal(signal.SIGTERM) is before


def test_a_signal_the_command_was_started_ignoring_stays_ignored() -> None:
    """`nohup assistant ask …` ignores HUP, and so must the turn: HUP is sent first and
    INT second, and Python runs pending handlers by signal number (HUP's first), so
    the INT that stops the work shows that HUP was never taken."""
    from assistant.cli.interrupt import run_interruptibly

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        cancel = threading.Event()

        def work() -> bool:
            os.kill(os.getpid(), signal.SIGHUP)
            os.kill(os.getpid(), signal.SIGINT)
            return cancel.wait(PATIENCE)

        assert run_interruptibly(work, cancel) == (True, signal.SIGINT)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


# -- the TUI -------------------------------------------------------------------------


class Terminal:
    """A pseudo-terminal the TUI runs in, its output read all along (a full pty
    buffer would stop the app), and its settings as the app left them."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.before = termios.tcgetattr(self.slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.output += data

    def shown(self) -> bytes:
        with self._lock:
            return bytes(self.output)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def settings(self) -> list:
        return termios.tcgetattr(self.slave)

    def close(self) -> None:
        os.close(self.slave)
        os.close(self.master)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_stop_signal_quits_the_tui_as_ctrl_q_does(assistant_home: Path, signum: int) -> None:
    terminal = Terminal()
    try:
        with stalled_claude() as claude:
            proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", *claude_flags(claude.base_url), *PATIENT_CLAUDE],
                stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave, start_new_session=True,
                env=environment(assistant_home, TERM="xterm-256color", COLUMNS="100", LINES="30"),
            )  # fmt: skip
            try:
                # The app is up once it has drawn its status bar (and set the terminal raw).
                wait_until(lambda: b"ready" in terminal.shown(), "the TUI draws its first screen")
                terminal.type("tell me a long story\r")
                wait_until(lambda: claude.stalls, "the answer stalls, three tokens in")
                proc.send_signal(signum)
                proc.wait(timeout=PATIENCE)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        assert proc.returncode == 128 + signum, terminal.shown()[-2000:]
        assert terminal.settings() == terminal.before  # raw mode undone: echo and lines back
        shown = terminal.shown()
        assert shown.rfind(b"\x1b[?1049l") > shown.rfind(b"\x1b[?1049h")  # the alternate screen left
        assert b"Traceback" not in shown
    finally:
        terminal.close()
    [turn] = all_turns()
    assert turn.outcome == "cancelled" and turn.backend == "claude"
    with Ledger.open() as ledger:
        [session] = ledger.sessions()
    assert session.title.startswith("tell me a long story")


def test_a_stop_signal_during_a_refactor_cancels_it_and_writes_nothing(tmp_path: Path, assistant_home: Path) -> None:
    """`refactor` cleans up after Ctrl+C as a KeyboardInterrupt: TERM raises one too."""
    project = tmp_path / "project"
    project.mkdir()
    source = project / "calc.py"
    source.write_text("def add(a, b):\n    return a + b\n")
    with stalled_claude() as claude:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "refactor", "calc.py", "-m", "rename add to plus",
             *claude_flags(claude.base_url), *PATIENT_CLAUDE],
            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(assistant_home),
        )  # fmt: skip
        wait_until(lambda: claude.stalls, "the proposal stalls, three tokens in")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 143, err
    assert "cancelled" in out.decode() and "Traceback" not in err.decode()
    assert source.read_text() == "def add(a, b):\n    return a + b\n"


def test_a_stop_signal_during_a_bench_ends_it_with_the_signal_s_exit_code(assistant_home: Path) -> None:
    with stalled_claude() as claude:
        settings = [flag for flag in claude_flags(claude.base_url) if flag not in ("--backend", "claude")]
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "bench", "--backend", "claude", "--quick", *settings, *PATIENT_CLAUDE],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(assistant_home),
        )  # fmt: skip
        wait_until(lambda: claude.stalls, "the first run stalls, three tokens in")
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 129, err
    assert b"interrupted" in err and b"Traceback" not in err


# -- the TUI in a real terminal (tmux) ----------------------------------------------


class Tmux:
    """A tmux server of the test's own (its own socket, no config) with one 100 x 30
    pane: a shell runs the command in it, then writes its exit status to a file and
    stays, so that the terminal the command left can be read."""

    def __init__(self, folder: Path) -> None:
        self.socket, self.status = str(folder / "tmux.sock"), folder / "status"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", self.socket, "-f", os.devnull, *args],
                              capture_output=True, text=True, timeout=PATIENCE)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, command: list[str], home: Path) -> None:
        script = f"{shlex.join(command)}; echo $? > {shlex.quote(str(self.status))}; exec sleep 600"
        self("new-session", "-d", "-x", "100", "-y", "30", "-e", f"ASSISTANT_HOME={home}", script)

    def command_pid(self) -> int:
        """The command's process: the pane's shell's child."""
        shell = self("display-message", "-p", "#{pane_pid}").strip()
        [child] = [p.name for p in Path("/proc").iterdir()
                   if p.name.isdigit() and _parent(p) == shell]  # fmt: skip
        return int(child)

    def shown(self) -> str:
        return self("capture-pane", "-p")

    def alternate_screen(self) -> bool:
        return self("display-message", "-p", "#{alternate_on}").strip() == "1"

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=PATIENCE)


def _parent(proc: Path) -> str | None:
    try:
        return (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        return None


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (the pty test above stands in)")
@pytest.mark.parametrize("when", ["idle", "mid-answer"])
def test_sigterm_gives_a_real_terminal_back(assistant_home: Path, tmp_path: Path, when: str) -> None:
    """In tmux, as a person runs it: after SIGTERM the pane is off the alternate screen
    and the app exited 143."""
    tmux = Tmux(tmp_path)
    try:
        with stalled_claude() as claude:
            flags = [*claude_flags(claude.base_url), *PATIENT_CLAUDE] if when == "mid-answer" else []
            tmux.start([sys.executable, "-m", "assistant", *flags], assistant_home)
            wait_until(lambda: "ready" in tmux.shown(), "the TUI draws its first screen")
            assert tmux.alternate_screen()
            if when == "mid-answer":
                tmux("send-keys", "tell me a long story", "Enter")
                wait_until(lambda: claude.stalls, "the answer stalls, three tokens in")
            os.kill(tmux.command_pid(), signal.SIGTERM)
            wait_until(tmux.status.exists, "the app ends on SIGTERM")
        wait_until(lambda: tmux.status.read_text().strip(), "the exit status written")
        assert tmux.status.read_text().strip() == "143", tmux.shown()
        assert not tmux.alternate_screen(), tmux.shown()
        assert "Traceback" not in tmux.shown()
    finally:
        tmux.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_sigterm_gives_the_terminal_back_even_while_the_app_is_too_busy_to_quit(
    assistant_home: Path, tmp_path: Path
) -> None:
    """100 KB pasted without bracketed paste is 100,000 keys, each re-wrapping the
    prompt: the app's loop is busy for minutes, its quit waiting behind them. Before,
    the app ended only once they were done (whoever sent SIGTERM had sent SIGKILL by
    then, and the shell stayed on the alternate screen); now it leaves
    LEAVE_AFTER_SECONDS after the signal, the terminal given back, and says so."""
    tmux = Tmux(tmp_path)
    try:
        tmux.start([sys.executable, "-m", "assistant"], assistant_home)
        wait_until(lambda: "ready" in tmux.shown(), "the TUI draws its first screen")
        pasted = tmp_path / "pasted.txt"
        pasted.write_text("the quick brown fox jumps over the lazy dog " * 2300)
        tmux("load-buffer", str(pasted))
        tmux("paste-buffer")  # without -p: keys, not a bracketed paste
        wait_until(lambda: "lazy dog" in tmux.shown(), "the paste reaches the prompt")
        time.sleep(3)  # the keys pile up behind the prompt's re-wrapping (minutes of them)
        os.kill(tmux.command_pid(), signal.SIGTERM)
        wait_until(tmux.status.exists, "the app ends on SIGTERM")
        wait_until(lambda: tmux.status.read_text().strip(), "the exit status written")
        everything = tmux("capture-pane", "-p", "-J", "-S", "-")  # the history too, wrapped lines joined
        assert tmux.status.read_text().strip() == "143", everything[-2000:]
        assert not tmux.alternate_screen(), everything[-2000:]
        assert "assistant: SIGTERM: the app had not ended 5 s after it; left at once" in everything, everything[-2000:]
    finally:
        tmux.close()

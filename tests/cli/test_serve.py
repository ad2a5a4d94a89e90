"""`assistant serve` in a real headless chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium): the page loads the TUI, a prompt typed
into it is answered by the local model and recorded with its tokens/sec, and a
screenshot of the page is kept (tests/artifacts/serve.png).

Without chromium the test is skipped with the reason; under CI it fails instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.core.store.ledger import Ledger
from tests.backends.server.conftest import free_port
from tests.patience import PATIENCE, wait_until

pytestmark = pytest.mark.model

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def browser() -> tuple[str, str]:
    found = shutil.which("chromium"), shutil.which("chromedriver")
    if None in found:
        reason = "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the browser test")
        pytest.skip(reason)
    return found  # type: ignore[return-value]


def wait_for_page(port: int, timeout: float = PATIENCE) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("assistant serve did not answer")


def test_the_tui_in_a_browser_answers_a_typed_prompt_with_the_local_model(assistant_home: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.keys import Keys

    chromium, driver_path = browser()
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port), "--",
         "--max-tokens", "12", "--temperature", "0", "--n-threads", "1"],  # fmt: skip
        env={**os.environ, "ASSISTANT_HOME": str(assistant_home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.binary_location = chromium
    page = None
    try:
        wait_for_page(port)
        page = webdriver.Chrome(service=Service(driver_path), options=options)
        page.get(f"http://127.0.0.1:{port}/")
        deadline = time.monotonic() + PATIENCE
        while page.execute_script("return document.querySelectorAll('canvas').length") == 0:
            assert time.monotonic() < deadline, "the terminal never appeared"
            time.sleep(0.2)
        # The app starts in its own process; once it has mounted, it loads the model,
        # whose loader's lines go to its log: from then on it reads what is typed.
        log = Path(assistant_home) / "logs" / "assistant.log"
        wait_until(lambda: log.exists() and "llama_model_loader" in log.read_text(errors="replace"),
                   "the app in the browser never started loading its model")  # fmt: skip
        keyboard = page.execute_script("return document.querySelector('.xterm-helper-textarea')")  # xterm.js's input
        keyboard.send_keys("Name three prime numbers.")
        keyboard.send_keys(Keys.ENTER)
        ledger = Path(assistant_home) / "data" / "ledger.sqlite3"
        turns = []
        deadline = time.monotonic() + PATIENCE
        while not turns:
            assert time.monotonic() < deadline, "the typed prompt was never answered"
            time.sleep(0.5)
            if Ledger.recorded(ledger):
                with Ledger.open_to_read(ledger) as opened:
                    turns = opened.turns()
        [turn] = turns
        assert turn.outcome == "ok" and turn.backend == "local" and turn.completion_tokens > 0
        assert turn.tokens_per_second and turn.tokens_per_second > 0  # what the status bar shows
        time.sleep(1)  # the status bar's last paint
        ARTIFACTS.mkdir(exist_ok=True)
        page.save_screenshot(str(ARTIFACTS / "serve.png"))
    finally:
        if page is not None:
            page.quit()
        serve.terminate()
        serve.wait(timeout=PATIENCE)


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_serving_beyond_loopback_says_who_can_use_it(host: str, warned: bool, monkeypatch, capsys) -> None:  # noqa: ANN001
    from textual_serve import server

    from assistant.cli.commands import main

    started: list[tuple[str, str, int]] = []
    monkeypatch.setattr(server.Server, "serve", lambda self, *a, **k: started.append((self.command, self.host, self.port)))
    assert main(["serve", "--host", host, "--port", "8123", "--", "--max-tokens", "8"]) == 0
    err = capsys.readouterr().err
    assert ("anyone who can reach this port can use the app" in err) is warned
    [(command, bound, port)] = started
    assert (bound, port) == (host, 8123) and command.endswith("-m assistant --max-tokens 8")

"""`assistant serve` in a real headless chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium): the page loads the TUI, a prompt typed
into it is answered by the local model and recorded with its tokens/sec, and a
screenshot of the page is kept (tests/artifacts/serve.png). The page asks nothing
of another host: every request the browser made is read back from its network log,
and any name but the server's resolves nowhere (nothing may need the network but
the model APIs).

Without chromium the test is skipped with the reason; under CI it fails instead."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assistant.cli.serve_server import AssistantServer
from assistant.core.store.ledger import Ledger
from tests.cli.serve_process import serving
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


def test_the_tui_in_a_browser_answers_a_typed_prompt_with_the_local_model(assistant_home: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.keys import Keys

    chromium, driver_path = browser()
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # the DevTools network events
    options.binary_location = chromium
    with serving(assistant_home, "--max-tokens", "12", "--temperature", "0", "--n-threads", "1") as url:
        page = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            page.get(url)  # as printed, with its token: the page's own requests then pass on its cookie
            answer_a_typed_prompt(page, assistant_home, Keys.ENTER)
            asked = requested(page)
        finally:
            page.quit()
    server = urlsplit(url).netloc
    assert {urlsplit(u).netloc for u in asked if urlsplit(u).scheme in ("http", "https", "ws", "wss")} == {server}, asked
    assert any(u.endswith("/static/fonts/RobotoMono-VariableFont_wght.ttf") for u in asked)  # its font, from here


def requested(page) -> list[str]:  # noqa: ANN001
    """Every URL the page asked for: HTTP requests and WebSockets, from chromium's network log."""
    events = (json.loads(entry["message"])["message"] for entry in page.get_log("performance"))
    return [event["params"]["request"]["url"] if event["method"] == "Network.requestWillBeSent" else event["params"]["url"]
            for event in events if event["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated")]  # fmt: skip


def answer_a_typed_prompt(page, home: Path, enter: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + PATIENCE
    while page.execute_script("return document.querySelectorAll('canvas').length") == 0:
        assert time.monotonic() < deadline, "the terminal never appeared"
        time.sleep(0.2)
    # The app starts in its own process; once it has mounted, it loads the model,
    # whose loader's lines go to its log: from then on it reads what is typed.
    log = home / "logs" / "assistant.log"
    wait_until(lambda: log.exists() and "llama_model_loader" in log.read_text(errors="replace"),
               "the app in the browser never started loading its model")  # fmt: skip
    keyboard = page.execute_script("return document.querySelector('.xterm-helper-textarea')")  # xterm.js's input
    keyboard.send_keys("Name three prime numbers.")
    keyboard.send_keys(enter)
    ledger = home / "data" / "ledger.sqlite3"
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


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_serving_beyond_loopback_says_who_can_use_it_and_still_asks_for_the_token(
    host: str, warned: bool, monkeypatch, capsys,  # noqa: ANN001
) -> None:
    from textual_serve import server

    from assistant.cli.commands import main

    started: list[AssistantServer] = []
    monkeypatch.setattr(server.Server, "serve", lambda self, *a, **k: started.append(self))
    assert main(["serve", "--host", host, "--port", "8123", "--", "--max-tokens", "8"]) == 0
    err = capsys.readouterr().err
    assert ("anyone who can reach this port and has the URL below (its token) can use the app" in err) is warned
    [served] = started
    assert isinstance(served, AssistantServer) and (served.host, served.port) == (host, 8123)
    assert served.command.endswith("-m assistant --max-tokens 8")
    assert f"open http://{host}:8123/?token={served.gate.token} in a browser" in err and len(served.gate.token) >= 32


@pytest.mark.parametrize("port", ["taken", "70000"])
def test_a_port_it_cannot_listen_on_is_one_line(port: str, assistant_home: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        number = str(holder.getsockname()[1]) if port == "taken" else port
        done = subprocess.run([sys.executable, "-m", "assistant", "serve", "--port", number],
                              capture_output=True, text=True, timeout=PATIENCE)  # fmt: skip
    [said] = [line for line in done.stderr.splitlines() if not line.startswith("assistant: open http")]
    assert done.returncode == 1 and said.startswith(f"assistant: cannot listen on 127.0.0.1:{number}: ")


def test_the_page_names_no_other_host_and_its_font_is_served_here(assistant_home: Path) -> None:
    """Without a browser: textual-serve's page linked Google's fonts; every URL in the
    page is now this server's, and the font it names is there."""
    import re
    import urllib.request

    with serving(assistant_home, "--version") as url:
        with urllib.request.urlopen(url, timeout=PATIENCE) as reply:
            page = reply.read().decode()
            cookie = reply.headers["Set-Cookie"].split(";")[0]
        server = urlsplit(url)
        named = re.findall(r"""(?<!xmlns=")(?:https?|wss?)://[^\s"'<>)]+""", page)  # a namespace is no request
        assert named and {urlsplit(u).netloc for u in named} == {server.netloc}, named
        fonts = re.findall(r"""url\("(/static/fonts/[^"]+)"\)""", page)
        assert len(fonts) == 2
        for font in fonts:
            asked = urllib.request.Request(f"{server.scheme}://{server.netloc}{font}", headers={"Cookie": cookie})
            with urllib.request.urlopen(asked, timeout=PATIENCE) as reply:
                assert reply.status == 200 and len(reply.read()) > 100_000

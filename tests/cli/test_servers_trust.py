"""`assistant servers`, `ask --backend NAME` and `config` against servers that are not
to be trusted (issue 24, items 5, 6 and 8), on a loopback stub: a `/props` that is
not JSON is one line at most, never a crash; a cut or non-stream answer is not
`ok`; a password or key in a server's URL appears in no output, ledger row or log."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from assistant.cli.commands import main
from assistant.core.paths import Paths
from assistant.core.store.ledger import Ledger
from tests.backends.server.stub import Reply, StubServer
from tests.cli.test_ask_json import valid

PASSWORD = "hunter2-Pa55word"
QUERY_KEY = "q-KEY-0123456789"


def server_flags(url: str, name: str = "gpu") -> list[str]:
    # No fallback to the local model: a failure is the server's own, said as such.
    return ["--set", f"servers.{name}.base_url={url}", "--set", f"servers.{name}.max_retries=0",
            "--set", f"servers.{name}.connect_timeout=5", "--set", "router.fallback=[]"]  # fmt: skip


def with_password(url: str) -> str:
    return url.replace("http://", f"http://admin:{PASSWORD}@", 1)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def ask_json(url: str, *extra: str) -> tuple[int, dict, str]:
    code, out, err = run("ask", "--json", "--backend", "gpu", *server_flags(url), *extra, "Name three primes.")
    [done] = [valid(json.loads(line)) for line in out.splitlines()]
    return code, done, err


def unreachable_url() -> str:
    from tests.backends.server.conftest import free_port

    return f"http://admin:{PASSWORD}@127.0.0.1:{free_port()}/v1?api_key={QUERY_KEY}"


# -- item 5: /props that is not JSON ------------------------------------------------------


@pytest.mark.parametrize("props", [b"<html>oops</html>", b"{not json", json.dumps({"default_generation_settings":
                                                                                      {"n_ctx": True}}).encode()])
def test_servers_with_props_that_are_not_json_lists_the_server_with_the_defaults(props: bytes) -> None:
    with StubServer([Reply()]) as stub:
        stub.props = props
        code, out, err = run("servers", *server_flags(stub.base_url))
        assert code == 0 and not err, err
        assert out.startswith(f"gpu  {stub.base_url}  reachable · model stub-model · context 4,096 · 1 slot · ")
        code, out, _ = run("servers", "--json", *server_flags(stub.base_url))
    [gpu] = valid(json.loads(out))["servers"]
    assert code == 0 and gpu["reachable"] and gpu["context_tokens"] == 4096 and gpu["slots"] == 1


def test_ask_on_a_server_whose_props_are_not_json_answers_with_the_defaults() -> None:
    with StubServer([Reply()]) as stub:
        stub.props = b"<html>oops</html>"
        code, done, err = ask_json(stub.base_url)
    assert code == 0 and done["outcome"] == "ok" and done["answer"] == "Two three five", err


# -- item 6: a cut stream, a reply that is no stream ---------------------------------------------


def test_ask_json_on_a_stream_cut_before_its_finish_reason_is_interrupted() -> None:
    with StubServer([Reply(finish=False)]) as stub:
        code, done, _ = ask_json(stub.base_url)
    assert code == 1 and done["outcome"] == "interrupted" and done["answer"] == "Two three five"
    assert "ended the answer early" in done["error"]["message"]
    with Ledger.open() as ledger:
        [turn] = ledger.turns()
    assert turn.outcome == "interrupted"


def test_ask_json_on_a_200_web_page_is_an_error_saying_so() -> None:
    with StubServer([Reply(body=b"<html>Sign in</html>", content_type="text/html; charset=utf-8")]) as stub:
        code, done, _ = ask_json(stub.base_url)
    assert code == 1 and done["outcome"] == "error" and done["answer"] == ""
    assert "not an event stream" in done["error"]["message"]


# -- item 8: credentials in a server's URL ----------------------------------------------------------


def test_config_shows_a_server_url_without_its_password_or_key() -> None:
    code, out, _ = run("config", *server_flags(unreachable_url()))
    [line] = [line for line in out.splitlines() if line.startswith("servers.gpu.base_url")]
    assert code == 0 and PASSWORD not in out and QUERY_KEY not in out
    assert "admin:***@127.0.0.1" in line and "api_key=***" in line


@pytest.mark.parametrize("as_json", [False, True])
def test_servers_shows_an_unreachable_url_without_its_password_or_key(as_json: bool) -> None:
    code, out, err = run("servers", *(["--json"] if as_json else []), *server_flags(unreachable_url()))
    why = valid(json.loads(out))["servers"][0]["why"] if as_json else out
    assert code == 1 and "cannot reach gpu at http://admin:***@127.0.0.1" in why
    assert PASSWORD not in out + err and QUERY_KEY not in out + err and "admin:***@" in out


def test_servers_shows_a_reachable_url_without_its_password() -> None:
    with StubServer([Reply()]) as stub:
        code, out, _ = run("servers", *server_flags(with_password(stub.base_url)))
    assert code == 0 and PASSWORD not in out and "admin:***@127.0.0.1" in out and "reachable" in out


@pytest.fixture
def failed_turn() -> tuple[int, dict, str]:
    """An `ask --json` whose server hangs up: its error names the URL, which has a password."""
    with StubServer([Reply(hang_up=True)]) as stub:
        return ask_json(with_password(stub.base_url), "--set", "general.debug_log=true")


def test_ask_json_error_message_has_no_password(failed_turn: tuple[int, dict, str]) -> None:
    code, done, err = failed_turn
    assert code == 1 and done["outcome"] == "error" and done["error"]["kind"] == "network"
    assert "admin:***@127.0.0.1" in done["error"]["message"] and PASSWORD not in done["error"]["message"] + err


def test_the_ledger_s_error_column_has_no_password(failed_turn: tuple[int, dict, str]) -> None:
    with Ledger.open() as ledger:
        [turn] = ledger.turns()
    assert turn.outcome == "error" and "admin:***@" in turn.error and PASSWORD not in turn.error


def test_the_log_has_no_password(failed_turn: tuple[int, dict, str]) -> None:
    log = Paths.resolve().log_file.read_text(encoding="utf-8")
    assert PASSWORD not in log
    # The app's own line on the failure, and the HTTP library's on each request (debug_log).
    assert "gpu request failed (network): cannot reach gpu at http://admin:***@127.0.0.1" in log
    assert "HTTP Request: GET http://admin:***@127.0.0.1" in log


@pytest.mark.parametrize("flag", ["--json", "--stream-json"])
def test_ask_json_on_a_server_that_cannot_load_still_writes_its_object(flag: str) -> None:
    """`--json` printed nothing at all when `--backend NAME` could not load (item 5)."""
    code, out, err = run("ask", flag, "--backend", "gpu", *server_flags(unreachable_url()), "Name three primes.")
    [done] = [valid(json.loads(line)) for line in out.splitlines()]
    assert code == 1 and done["outcome"] == "error" and done["backend"] == "gpu"
    assert done["error"]["kind"] == "unavailable" and "cannot reach gpu" in done["error"]["message"]
    assert PASSWORD not in out + err and QUERY_KEY not in out + err

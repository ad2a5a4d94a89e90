"""`assistant serve` admits only its own page (issue 24, item 1).

The real server on a loopback port is asked as an attacker would (a foreign page's
WebSocket, a rebinding `Host`, no token or a wrong one) and as its own page is (the
printed URL, then the cookie it sets); the gate's decisions are then checked on
generated input, for the addresses a server can be bound to."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import assume, given
from hypothesis import strategies as st

from assistant.cli.serve_guard import Gate
from tests.cli.serve_process import serving

REFUSED = "assistant serve: refused: "


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The printed URL of one server for the module. Each app it starts only prints its
    version and ends: what is tested here is who gets through to one."""
    with serving(tmp_path_factory.mktemp("home"), "--version") as printed:
        yield printed


def parts(url: str) -> tuple[str, int, str]:
    """The served origin, its port, and the token in the printed URL."""
    split = urlsplit(url)
    assert split.port is not None
    return f"{split.scheme}://{split.netloc}", split.port, parse_qs(split.query)["token"][0]


def cookie(url: str) -> str:
    _, port, token = parts(url)
    return f"assistant-serve-{port}={token}"


async def get(url: str, **headers: str) -> tuple[int, str]:
    # No cookie jar: a test sends exactly the cookie it means to.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(url, headers=headers, allow_redirects=False) as reply:
            return reply.status, await reply.text()


async def upgrade(url: str, **headers: str) -> int:
    """The status of a WebSocket handshake: 101 when it was let through."""
    ws_url = "ws" + url.removeprefix("http")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        try:
            async with session.ws_connect(ws_url, headers=headers) as socket:
                await socket.close()
                return 101
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status


@pytest.mark.parametrize("foreign", ["http://evil.example", "http://evil.example:{port}", "http://127.0.0.1:{other}",
                                     "https://127.0.0.1:{port}", "null"])  # fmt: skip
async def test_a_page_from_another_origin_cannot_open_the_websocket_even_with_the_cookie(url: str, foreign: str) -> None:
    origin, port, token = parts(url)
    page = foreign.format(port=port, other=port + 1)
    assert await upgrade(f"{origin}/ws?token={token}", Origin=page, Cookie=cookie(url)) == 403


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1.evil.example:{port}", "localhost:{other}", ""])
async def test_a_rebinding_host_is_refused_on_the_page_and_the_websocket_even_with_the_token(url: str, host: str) -> None:
    origin, port, token = parts(url)
    rebound = host.format(port=port, other=port + 1)
    status, body = await get(url, Host=rebound)
    assert (status, body.startswith(REFUSED + "the Host header")) == (403, True)
    assert await upgrade(f"{origin}/ws?token={token}", Host=rebound, Origin=f"http://{rebound}") == 403


@pytest.mark.parametrize("path", ["/", "/ws", "/static/js/textual.js", "/static/", "/download/any", "/nowhere",
                                  "/?token=wrong", "/?token=", "/?token=%C3%A9"])  # fmt: skip
async def test_without_the_token_nothing_is_served(url: str, path: str) -> None:
    origin, port, _ = parts(url)
    status, body = await get(origin + path)
    assert status == 403 and body.startswith(REFUSED + "no valid token") and "textual" not in body
    status, _ = await get(origin + path, Cookie=f"assistant-serve-{port}=wrong")
    assert status == 403


@pytest.mark.parametrize("origin", [None, "{origin}"])
async def test_a_websocket_without_the_token_is_refused(url: str, origin: str | None) -> None:
    served, _, _ = parts(url)
    assert await upgrade(f"{served}/ws", **({"Origin": origin.format(origin=served)} if origin else {})) == 403


async def test_the_printed_url_loads_the_page_and_its_cookie_admits_the_websocket(url: str) -> None:
    origin, port, token = parts(url)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(url) as reply:
            assert reply.status == 200 and "textual.js" in await reply.text()
            assert reply.headers["Referrer-Policy"] == "no-referrer"
            set_cookie = reply.cookies[f"assistant-serve-{port}"]
    assert set_cookie.value == token and set_cookie["httponly"] and set_cookie["path"] == "/"
    assert set_cookie["samesite"] == "Strict"
    # What the page then asks for by itself: its script and its WebSocket, with its cookie and Origin.
    assert (await get(f"{origin}/static/js/textual.js", Cookie=cookie(url)))[0] == 200
    assert await upgrade(f"{origin}/ws?width=80&height=24", Origin=origin, Cookie=cookie(url)) == 101


@pytest.mark.parametrize("alias", ["localhost", "[::1]"])
async def test_the_other_loopback_names_of_the_port_are_this_server(url: str, alias: str) -> None:
    _, port, _ = parts(url)
    status, page = await get(url, Host=f"{alias}:{port}")
    # The page's WebSocket and script go to the name it was opened by, where its cookie is.
    assert status == 200 and f"ws://{alias}:{port}/ws" in page and f"http://{alias}:{port}/static/" in page


def request(host: str, query: dict[str, str] | None = None, **headers: str):  # noqa: ANN201
    """A request as the gate sees it, without a server."""
    return make_mocked_request("GET", "/?" + urlencode(query or {}), headers={"Host": host, **headers})


@given(st.text())
def test_no_token_but_this_start_s_opens_the_door(token: str) -> None:
    gate = Gate("127.0.0.1", 8000)
    assume(token != gate.token)
    assert "no valid token" in (gate.refusal(request("127.0.0.1:8000", {"token": token})) or "")
    assert gate.refusal(request("127.0.0.1:8000", {"token": gate.token})) is None


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';,"\\')))
def test_no_cookie_but_this_start_s_opens_the_door(value: str) -> None:
    gate = Gate("127.0.0.1", 8000)
    assume(value != gate.token)
    assert gate.refusal(request("127.0.0.1:8000", Cookie=f"{gate.cookie}={value}")) is not None
    assert gate.refusal(request("127.0.0.1:8000", Cookie=f"{gate.cookie}={gate.token}")) is None


def test_a_cookie_opens_only_the_port_that_set_it() -> None:
    # Browsers send a host's cookies to all its ports: another start's cookie must not pass.
    first = Gate("127.0.0.1", 8000)
    second = Gate("127.0.0.1", 8001, first.token)
    assert second.refusal(request("127.0.0.1:8001", Cookie=f"{first.cookie}={first.token}")) is not None


@given(st.one_of(st.sampled_from(["127.0.0.1", "LocalHost", "[::1]", "::1", "localhost.", "0.0.0.0"]), st.text()),
       st.integers(0, 65535))  # fmt: skip
def test_a_loopback_server_answers_to_its_loopback_names_and_port_only(name: str, port: int) -> None:
    expected = name.lower() in {"127.0.0.1", "localhost", "[::1]"} and port == 8000
    assert Gate("127.0.0.1", 8000).names_this_server(f"{name}:{port}") is expected


@pytest.mark.parametrize(("bound", "authority", "named"), [
    ("0.0.0.0", "192.168.1.5:8000", True), ("0.0.0.0", "[fe80::1]:8000", True), ("0.0.0.0", "localhost:8000", True),
    ("0.0.0.0", "evil.example:8000", False), ("0.0.0.0", "192.168.1.5:8001", False), ("0.0.0.0", "fe80::1:8000", False),
    ("::", "10.0.0.2:8000", True), ("::", "box.lan:8000", False),
    ("192.168.1.5", "192.168.1.5:8000", True), ("192.168.1.5", "127.0.0.1:8000", False),
    ("::1", "[::1]:8000", True), ("localhost", "127.0.0.1:8000", True),
])  # fmt: skip
def test_a_server_answers_to_the_address_it_is_bound_to(bound: str, authority: str, named: bool) -> None:
    assert Gate(bound, 8000).names_this_server(authority) is named


@pytest.mark.parametrize(("authority", "named"), [("127.0.0.1", True), ("127.0.0.1:80", True), ("127.0.0.1:8080", False)])
def test_on_port_80_the_host_may_leave_the_port_out(authority: str, named: bool) -> None:
    assert Gate("127.0.0.1", 80).names_this_server(authority) is named


def test_beyond_loopback_the_token_is_still_required() -> None:
    gate = Gate("0.0.0.0", 8000)
    assert "no valid token" in (gate.refusal(request("192.168.1.5:8000", Origin="http://192.168.1.5:8000")) or "")
    assert gate.refusal(request("192.168.1.5:8000", {"token": gate.token}, Origin="http://192.168.1.5:8000")) is None


def test_an_ipv6_address_is_printed_in_brackets() -> None:
    gate = Gate("::1", 8000)
    assert gate.url == f"http://[::1]:8000/?token={gate.token}" and gate.token not in repr(gate)


def test_each_start_has_its_own_token() -> None:
    assert len({Gate("127.0.0.1", 8000).token for _ in range(50)}) == 50

"""Who `assistant serve` lets in: its own page, opened with this start's token.

textual-serve answers anyone. A browser lets any web page open a WebSocket to any
address (it only sends the page's `Origin`), DNS rebinding makes a hostile name
resolve to 127.0.0.1 (same-origin with the port, `Host` still naming the attacker),
and another local user can connect straight in. So every request, the WebSocket
upgrade included, must name this server in `Host`, come from this server's own page
when it carries an `Origin`, and hold the secret token made at start: in the URL
`serve` prints, then in an HttpOnly, SameSite=Strict cookie that the page's own
requests (static files, the WebSocket) send by themselves. The token is the lock;
Host and Origin keep a foreign page away even from a browser that holds the cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# Bound to every interface, the server has no one name: it answers to an IP literal
# or `localhost` (which no rebinding can hide behind), never to another DNS name.
WILDCARD = frozenset({"0.0.0.0", "::", ""})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bracketed(host: str) -> str:
    """A host as a URL or a `Host` header writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def is_ip_literal(name: str) -> bool:
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    elif ":" in name:  # an IPv6 address outside brackets is not a host
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _same(given: str | None, secret: str) -> bool:
    # Bytes: compare_digest refuses a non-ASCII str with TypeError instead of saying no.
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode())


@dataclass(frozen=True, slots=True)
class Gate:
    """The address `serve` listens on and the token of this start; decides each request."""

    host: str
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def origin(self) -> str:
        return f"http://{bracketed(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        """What `serve` prints: the page, with the token (as Jupyter does)."""
        return f"{self.origin}/?token={self.token}"

    @property
    def cookie(self) -> str:
        # Browsers share a host's cookies across its ports: each server names its own.
        return f"assistant-serve-{self.port}"

    def names_this_server(self, authority: str) -> bool:
        """Whether `authority` (a `Host` header, an `Origin` less its scheme) is this server."""
        authority, port = authority.lower(), f":{self.port}"
        if authority.endswith(port):
            name = authority[: -len(port)]
        elif self.port == 80:  # browsers leave the default port out of Host and Origin
            name = authority
        else:
            return False
        if self.host in WILDCARD:
            return name == "localhost" or is_ip_literal(name)
        return name in {bracketed(n) for n in (LOOPBACK if self.host in LOOPBACK else {self.host.lower()})}

    def refusal(self, request: web.BaseRequest) -> str | None:
        """Why `request` is refused, in a short sentence; None when it is let in."""
        if not self.names_this_server(request.headers.get("Host", "")):
            return f"the Host header does not name this server ({self.origin})"
        origin = request.headers.get("Origin")
        if origin is not None and not (origin.lower().startswith("http://") and self.names_this_server(origin[7:])):
            return "another site's page may not use this server"
        if not (_same(request.query.get("token"), self.token) or _same(request.cookies.get(self.cookie), self.token)):
            return "no valid token: open the URL that `assistant serve` printed (it carries this start's token)"
        return None

    @web.middleware
    async def admit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """aiohttp middleware: a refused request gets 403 and one plain line, never the app."""
        reason = self.refusal(request)
        if reason is not None:
            return web.Response(status=403, text=f"assistant serve: refused: {reason}\n")
        response = await handler(request)
        if not response.prepared:  # a WebSocket or a download has sent its headers already
            response.headers["Referrer-Policy"] = "no-referrer"  # the token never leaves in a Referer
            if _same(request.query.get("token"), self.token):
                response.set_cookie(self.cookie, self.token, path="/", httponly=True, samesite="Strict")
        return response

"""Credentials inside URLs, masked wherever a URL is shown or kept.

A server's `base_url` may carry a password (`http://admin:PW@host/v1`) or a key in
its query (`?api_key=…`, `?token=…`), and the errors of httpx and the openai SDK
repeat the URL they failed on. `redact_url` masks one URL; `redact` masks every URL
inside a text (an error line, a log record). Both are applied where text is shown
or stored (`assistant config`, `assistant servers`, a server's error lines, the
log), so that a password reaches neither the screen, the ledger nor a file.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# What a name holds when it holds a credential: a query parameter (api_key, access_token,
# X-Amz-Signature, client_secret, …) or an environment variable (ANTHROPIC_API_KEY,
# GITHUB_TOKEN, SSH_AUTH_SOCK, …).
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASS", "PWD", "AUTH", "SIG", "CREDENTIAL", "SESSION", "COOKIE")
_SECRET_NAME = re.compile("|".join(SECRET_WORDS), re.IGNORECASE)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def secret_name(name: str) -> bool:
    """Whether a name (a variable's, a parameter's) says it holds a credential."""
    return _SECRET_NAME.search(name) is not None


def env_name_problem(name: str) -> str | None:
    """Why `name` may not be passed to a sandboxed command (core/sandbox.py), or None.
    Here, not there: the config checks it when read, and reading the config must not
    load the sandbox."""
    if not _ENV_NAME.fullmatch(name):
        return f"{name!r} is not an environment variable's name"
    if secret_name(name):
        return f"{name} looks like a credential (its name holds {', '.join(SECRET_WORDS)}): never passed"
    return None

# A URL inside free text: a scheme, then everything up to a space, a quote or a bracket
# that cannot be part of it (the usual delimiters of URLs in error messages).
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")


def _netloc(netloc: str) -> str:
    if "@" not in netloc:
        return netloc
    userinfo, host = netloc.rsplit("@", 1)  # a password may hold an unescaped @
    user, colon, _ = userinfo.partition(":")
    # A user alone is often a token (https://TOKEN@host): it is masked as a password is.
    return f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"


def _query(query: str) -> str:
    def masked(pair: str) -> str:
        name, equals, value = pair.partition("=")
        return f"{name}={MASK}" if equals and value and _SECRET_NAME.search(name) else pair

    return "&".join(masked(pair) for pair in query.split("&")) if query else query


def redact_url(url: str) -> str:
    """`url` with the password of its userinfo (or a lone user, often a token) and
    the values of secret-looking query (or fragment) parameters replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable as a URL (an unclosed IPv6 bracket): mask by shape
        return re.sub(r"//[^/?#\s]*@", f"//{MASK}@", url)
    masked = parts._replace(netloc=_netloc(parts.netloc), query=_query(parts.query), fragment=_query(parts.fragment))
    return url if masked == parts else urlunsplit(masked)  # unchanged: not even re-spelt


def redact(text: str) -> str:
    """`text` with every URL in it passed through `redact_url`."""
    if "://" not in text:  # the usual case, answered without a regex scan
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


__all__ = ["MASK", "SECRET_WORDS", "redact", "redact_url", "secret_name"]

"""Secrets typed into a message: provider keys found by their shape, private-key
blocks, and random-looking values written after a key-like name.

A file is secret by its name (routers/privacy.py); what a person types or pastes is
secret by its content, and is found here. A `Finding` says what kind of secret it is
and where, never its value, so that a route's reason can name it; `mask_secrets`
keeps the public prefix of each and replaces the rest by `***` (`sk_live_***`),
wherever text is kept: the log (core/logs.py), the ledger's file and its stored chats
(core/store/ledger.py), the history a session sends with later turns
(core/session/chat.py), and what a token count sends before the router decides
(backends/claude/backend.py).

Scanning takes time linear in the text, whatever it holds: every pattern is
anchored on a literal prefix or a bounded run, and a name before a value is read
backwards from the value over a bounded window, so a pasted megabyte costs a few
passes of the regex engine. The shapes are code, not a data file: each is a regular
expression whose false positives the tests measure (tests/core/test_typed_secrets.py),
and the log's formatter needs them without reading a file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from assistant.core.secrets import MASK, secret_name

# A turn flag: the person let this message's secrets leave the machine
# (`assistant ask --allow-secret`, or a yes when the TUI asked).
ALLOW_SECRET = "allow-secret"


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret in a text: its kind ("Stripe live key") and where it is
    (`text[start:end]`), of which the first `shown` characters are the public prefix
    that names the kind (`sk_live_`), kept when masked. Never the value itself."""

    kind: str
    start: int
    end: int
    shown: int = 0

    @property
    def named(self) -> str:
        """The kind with its article: "a Stripe live key", "an AWS access key ID"."""
        return f"{'an' if self.kind[:1].upper() in 'AEIOU' else 'a'} {self.kind}"


@dataclass(frozen=True, slots=True)
class _Shape:
    """A provider's key: what it is, and its two parts' patterns."""

    kind: str
    prefix: str  # a regex: the part of a key that is public (kept when masked)
    body: str  # a regex: the rest
    random_body: bool = False  # the prefix alone is too common: the body must look random too


# Keys of the major providers, by the shapes their docs and secret scanners give.
# The order decides between two shapes matching at one place (`sk-ant-` before `sk-`).
_SHAPES = (
    _Shape("Stripe live key", r"[sr]k_live_", r"[0-9A-Za-z]{16,}"),
    _Shape("Stripe test key", r"[sr]k_test_", r"[0-9A-Za-z]{16,}"),
    _Shape("Stripe webhook secret", r"whsec_", r"[0-9A-Za-z]{24,}"),
    _Shape("AWS access key ID", r"(?:AKIA|ASIA)", r"[0-9A-Z]{16}(?![0-9A-Za-z])"),
    _Shape("GitHub token", r"gh[pousr]_", r"[0-9A-Za-z]{36,}"),
    _Shape("GitHub token", r"github_pat_", r"[0-9A-Za-z_]{40,}"),
    _Shape("Slack token", r"xox[abprse]-", r"[0-9A-Za-z-]{10,}"),
    _Shape("Slack webhook", r"https://hooks\.slack\.com/services/", r"[0-9A-Za-z/]{20,}"),
    _Shape("Anthropic API key", r"sk-ant-", r"[0-9A-Za-z_-]{20,}"),
    _Shape("OpenAI API key", r"sk-(?:proj-|svcacct-|admin-)?", r"[0-9A-Za-z_-]{20,}", random_body=True),
    _Shape("Google API key", r"AIza", r"[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    _Shape("GitLab token", r"glpat-", r"[0-9A-Za-z_-]{20,}"),
    _Shape("npm token", r"npm_", r"[0-9A-Za-z]{36,}"),
    _Shape("PyPI token", r"pypi-", r"AgE[0-9A-Za-z_-]{50,}"),
    _Shape("Hugging Face token", r"hf_", r"[0-9A-Za-z]{30,}"),
    _Shape("SendGrid key", r"SG\.", r"[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}"),
    # A JWT: base64url JSON header and payload (each `{"` → `eyJ`), then a signature.
    _Shape("JSON Web Token", r"eyJ", r"[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}", random_body=True),
)
# One pattern for every shape: group sN is the whole key, pN its public prefix. It is
# tried only where a prefix may begin (`_FIRST`: what each prefix can start with), so
# that 1 MB of `~` or `../` is not tried at every position (0.35 s).
_KEYS = "|".join(f"(?P<s{i}>(?P<p{i}>{s.prefix}){s.body})" for i, s in enumerate(_SHAPES))
_FIRST = "AGSeghnprswx"  # tests/core/test_typed_secrets.py checks it against every shape
# Where a key may start: one of those after a character that is no letter or digit
# (`xsk_live_…` is some other word). A run of `\S` starts after a space or at 0.
_START = f"[^0-9A-Za-z]([{_FIRST}])"
# The header of a private key (PKCS#1/#8, OpenSSH, EC, DSA, PGP) followed by a block,
# on a line of its own or, pasted into one line, after a space: base64, or the headers
# of an encrypted key. The block may hold base64, headers (`Proc-Type: 4,ENCRYPTED`) and
# line breaks, written or escaped (`\\n`, as a log's JSON writes them), up to its END
# line; no quote: a block inside a string ends with it, so a mask never breaks the JSON
# around it. A header alone (a question about one) holds nothing to keep.
_PEM = (
    r"(?P<head>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"
    r"(?=(?:\s|\\[rn])+(?:[0-9A-Za-z+/=]{16}|Proc-Type:))"
    r"[0-9A-Za-z+/=\s:,.\\-]*"
)
_PEM_END = "-----END "

# Where a key or a value may be: 15 characters or more without a space (the shortest
# shape is a Slack token's). Looking only there makes a scan of prose cheap.
_RUN = r"\S{15,}"
# A value that may be a secret when a key-like name comes before it: base64(url) or
# hex characters, 16 or more, with base64's padding.
_VALUE = r"[0-9A-Za-z+/_-]{16,}={0,2}"
MIN_VALUE_CHARS = 16
MIN_BITS_PER_CHAR = 3.0  # below, a value repeats itself: `aaaa…`, `abab…`
MIN_HEX_CHARS = 32  # `secrets.token_hex(16)`; a shorter hex string is an abbreviated hash or an id
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_HEX = r"[0-9a-fA-F]+"
# What comes before a value that says it is a credential, read backwards from the
# value (each alternative is reversed): an opening quote, then an auth scheme
# (`Authorization: Bearer VALUE`), or an operator, "is" or a space after a name (`name:
# "VALUE`, `name = VALUE`, `"name": "VALUE`, `name => VALUE`, `--token=VALUE`, `my key
# is VALUE`, `token VALUE`), the name's closing quote between them.
_LOOKBACK = 96
_NAME_BEFORE = (
    r"[\"'`]?(?:"
    r"\s{1,8}(?P<scheme>reraeB|cisaB|nekoT)(?![0-9A-Za-z])"
    r"|(?P<op>\s{0,8}(?:=:|>=|[:=])\s{0,8}|\s{1,8}si\s{1,8}|\s{1,8})[\"'\]]?(?P<name>[0-9A-Za-z_.-]{1,64})"
    r")"
)
# A word, an acronym, a camelCase or PascalCase run, then digits: the letters (l, u)
# and digits (d) of one part of a name-like value.
_CLASSES = str.maketrans(
    {**dict.fromkeys("abcdefghijklmnopqrstuvwxyz", "l"), **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "u"),
     **dict.fromkeys("0123456789", "d")}
)  # fmt: skip
_WORDISH = r"u*l*(?:ul{2,})*d*"
_PARTS = r"[+/_-]"


@cache
def _re(pattern: str) -> re.Pattern[str]:
    """A pattern above, compiled when first used: no start-up waits for these."""
    return re.compile(pattern)


def find_secrets(text: str) -> tuple[Finding, ...]:
    """The secrets in `text`, in order, none overlapping another."""
    runs = [m.span() for m in _re(_RUN).finditer(text)]
    found = _keys(text, runs)
    found += _private_keys(text)
    found += _named_values(text, runs, found)
    return _apart(found)


def mask_secrets(text: str, findings: Sequence[Finding] | None = None) -> str:
    """`text` with each secret's value replaced by `***` after its public prefix
    (`sk_live_***`, `-----BEGIN RSA PRIVATE KEY-----***`, `api_key=***`)."""
    found = find_secrets(text) if findings is None else findings
    if not found:
        return text
    parts: list[str] = []
    at = 0
    for f in found:
        parts += [text[at : f.start + f.shown], MASK]
        at = f.end
    parts.append(text[at:])
    return "".join(parts)


def describe(findings: Sequence[Finding]) -> str:
    """What was found, in words and without a value: "a Stripe live key", "a Stripe
    live key and a GitHub token", "a Stripe live key (and 2 more)"."""
    kinds = list(dict.fromkeys(f.named for f in findings))[:2]
    more = len(findings) - len(kinds)
    return " and ".join(kinds) + (f" (and {more} more)" if more > 0 else "")


# -- the three scans ---------------------------------------------------------------------


def _keys(text: str, runs: Sequence[tuple[int, int]]) -> list[Finding]:
    found = []
    starts, keys = _re(_START), _re(_KEYS)
    for start, end in runs:
        candidates = [m.start(1) for m in starts.finditer(text, max(start - 1, 0), end)]
        if start == 0 and text[:1] in _FIRST:
            candidates.insert(0, 0)
        after = start  # a key's characters are never another's start
        for at in candidates:
            if at < after or (m := keys.match(text, at, end)) is None:
                continue
            after = m.end()
            i = int(m.lastgroup[1:])  # type: ignore[index]  # the outer group sN closes last
            shape, prefix = _SHAPES[i], m.group(f"p{i}")
            body = m.group()[len(prefix) :].replace(".", "-")  # a JWT's parts, as a value's
            if shape.random_body and not _random_looking(body, hex_counts=True):
                continue
            found.append(Finding(shape.kind, m.start(), m.end(), len(prefix)))
    return found


def _private_keys(text: str) -> list[Finding]:
    """Each private-key block, from its BEGIN line to its END line; one without an END
    line (a key cut short is a key all the same) runs as far as a block's characters do."""
    found: list[Finding] = []
    at = 0
    while (m := _re(_PEM).search(text, at)) is not None:
        head, end = m.end("head"), m.end()
        last = text.find(_PEM_END, head, end)
        if last >= 0 and (close := text.find("-----", last + len(_PEM_END), end)) >= 0:
            end = close + 5
        while end > head and text[end - 1] == "\\":
            end -= 1  # half of an escape (`\\"`) stays whole
        found.append(Finding("private key", m.start(), end, head - m.start()))
        at = end
    return found


def _named_values(text: str, runs: Sequence[tuple[int, int]], taken: Sequence[Finding]) -> list[Finding]:
    """Random-looking values written after a name that says it holds a credential
    (`api_key = "…"`, `my password is …`) or after an auth scheme (`Bearer …`)."""
    spans = sorted((f.start, f.end) for f in taken)
    found = []
    i = 0
    for m in (m for start, end in runs for m in _re(_VALUE).finditer(text, start, end)):
        while i < len(spans) and spans[i][1] <= m.start():
            i += 1
        if i < len(spans) and spans[i][0] < m.end():
            continue  # a key already found by its shape
        before = _re(_NAME_BEFORE).match(text[max(0, m.start() - _LOOKBACK) : m.start()][::-1])
        if before is None:
            continue
        if (scheme := before.group("scheme")) is not None:
            name, explicit = scheme[::-1], True
        else:
            name = before.group("name")[::-1].lstrip(".-")
            explicit = before.group("op").strip() not in ("", "si")  # `=` or `:`, not "is" nor a space
            if not secret_name(name):
                continue
        if _random_looking(m.group(), hex_counts=explicit):
            # The name is said in the route's reason: unless it looks like a secret itself.
            shown = name if len(name) <= 40 and not _random_looking(name, hex_counts=True) else "a key-like name"
            found.append(Finding(f"secret after {shown}", m.start(), m.end()))
    return found


def _random_looking(value: str, *, hex_counts: bool) -> bool:
    """Whether `value` looks made by a random generator rather than by a person.

    A UUID is an identifier, and hex is a hash (a git SHA, a digest) unless it is long
    and assigned outright (`SECRET_KEY = "<token_hex(32)>"`). Otherwise random means
    varied enough (`MIN_BITS_PER_CHAR`) and not made of words: some part between
    `_ - / +` is not a word, an acronym or a camelCase run with digits at its end."""
    body = value.rstrip("=")
    if len(body) < MIN_VALUE_CHARS or _re(_UUID).fullmatch(body):
        return False
    if _re(_HEX).fullmatch(body):
        return hex_counts and len(body) >= MIN_HEX_CHARS and not body.isdigit()
    counts = Counter(body).values()
    bits = -sum(c / len(body) * math.log2(c / len(body)) for c in counts)
    if bits < MIN_BITS_PER_CHAR:
        return False
    return not all(_re(_WORDISH).fullmatch(part.translate(_CLASSES)) for part in _re(_PARTS).split(body))


def _apart(found: list[Finding]) -> tuple[Finding, ...]:
    """In order; where two overlap, the one that starts first (then the longer) stays."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -f.end)):
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return tuple(kept)


__all__ = ["ALLOW_SECRET", "Finding", "describe", "find_secrets", "mask_secrets"]

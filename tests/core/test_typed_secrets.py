"""Secrets typed into a message (core/typed_secrets.py), with generated input: prose,
code, hashes and UUIDs are never taken for secrets; a key of every shape, embedded
anywhere in them, always is, named by kind and masked to its public prefix; any
text is scanned in linear time; a mask never breaks the JSON it is inside."""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.typed_secrets import Finding, describe, find_secrets, mask_secrets
from tests.linear import assert_linear

B62 = string.ascii_letters + string.digits
B64URL = B62 + "-_"
B64 = B62 + "+/"
UPPER36 = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"


def draw(r: random.Random, alphabet: str, n: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(r: random.Random) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": str(r.randrange(10**9)), "iat": r.randrange(2**31)}).encode())
    return f"{header}.{payload}.{b64url(r.randbytes(32))}"


def private_key(r: random.Random, label: str) -> str:
    body = base64.b64encode(r.randbytes(r.randint(90, 400))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


# Each shape: (kind, public prefix, a key as its provider makes it from a seeded generator).
Maker = Callable[[random.Random], str]
SHAPES: dict[str, tuple[str, Maker]] = {
    "Stripe live key": ("sk_live_", lambda r: "sk_live_" + draw(r, B62, r.randint(24, 99))),
    "Stripe restricted key": ("rk_live_", lambda r: "rk_live_" + draw(r, B62, r.randint(24, 99))),
    "Stripe test key": ("sk_test_", lambda r: "sk_test_" + draw(r, B62, 24)),
    "Stripe webhook secret": ("whsec_", lambda r: "whsec_" + draw(r, B62, 32)),
    "AWS access key ID": ("AKIA", lambda r: r.choice(["AKIA", "ASIA"]) + draw(r, UPPER36, 16)),
    "GitHub token": ("ghp_", lambda r: r.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + draw(r, B62, 36)),
    "GitHub fine-grained token": ("github_pat_", lambda r: "github_pat_" + draw(r, B62, 22) + "_" + draw(r, B62, 59)),
    "Slack token": ("xox", lambda r: f"xox{r.choice('bpars')}-{r.randrange(10**12)}-{r.randrange(10**12)}-"
                    + draw(r, B62, 24)),
    "Slack webhook": ("https://hooks.slack.com/services/", lambda r: "https://hooks.slack.com/services/T"
                      + draw(r, UPPER36, 8) + "/B" + draw(r, UPPER36, 8) + "/" + draw(r, B62, 24)),
    "Anthropic API key": ("sk-ant-", lambda r: "sk-ant-api03-" + draw(r, B64URL, 93) + "AA"),
    "OpenAI API key": ("sk-", lambda r: r.choice(["sk-proj-" + draw(r, B64URL, 156), "sk-" + draw(r, B62, 48)])),
    "Google API key": ("AIza", lambda r: "AIza" + draw(r, B64URL, 35)),
    "GitLab token": ("glpat-", lambda r: "glpat-" + draw(r, B64URL, 20)),
    "npm token": ("npm_", lambda r: "npm_" + draw(r, B62, 36)),
    "PyPI token": ("pypi-", lambda r: "pypi-AgEIcHlwaS5vcmc" + draw(r, B64URL, r.randint(60, 180))),
    "Hugging Face token": ("hf_", lambda r: "hf_" + draw(r, B62, 34)),
    "SendGrid key": ("SG.", lambda r: f"SG.{draw(r, B64URL, 22)}.{draw(r, B64URL, 43)}"),
    "JSON Web Token": ("eyJ", jwt),
    "private key": ("-----BEGIN", lambda r: private_key(r, r.choice(
        ["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]))),
}  # fmt: skip
KIND_OF = {"Stripe restricted key": "Stripe live key", "GitHub fine-grained token": "GitHub token"}

# A value after a name that says it holds a credential: a random one as generators make it.
SECRET_NAMES = ["api_key", "SECRET_KEY", "password", "auth_token", "client_secret", "GITHUB_TOKEN", "apiKey",
                "aws_secret_access_key", "db_password", "session_cookie", "--token", "x-api-key"]
NAMED_FORMS = ['{name} = "{value}"', "{name}={value}", "{name}: {value}", '"{name}": "{value}"', "{name} => '{value}'",
               "export {name}={value}", "my {name} is {value}", "{name} {value}"]
HEADER_FORMS = ["Authorization: Bearer {value}", "Authorization: Basic {value}",
                "curl -H 'Authorization: Token {value}'"]


def random_value(r: random.Random) -> str:
    return r.choice([
        lambda: draw(r, B62, r.randint(20, 64)),
        lambda: base64.b64encode(r.randbytes(r.randint(18, 48))).decode(),  # with + / and = padding
        lambda: draw(r, B64URL, r.randint(24, 64)),
        lambda: draw(r, string.ascii_lowercase + string.digits, r.randint(24, 48)),
    ])()  # fmt: skip


# -- what is not a secret -----------------------------------------------------------------

WORDS = ("the a an of to in is it for with on at by from this that key keys token tokens secret password session "
         "auth author cookie signal design pass passes bypass compass monkey keyboard hash commit branch merge rebase "
         "test tests function class module import return value list dict string number error exception file path "
         "folder server client request response cache window model router backend local cloud price cost fast slow "
         "why how what when where please explain fix refactor rename update delete create the-end well-known "
         "getUserName HTTPServer XMLHttpRequest snake_case_name UPPER_SNAKE_NAME my_key_v2 utf8 base64 sha256 x86_64 "
         "v1.2.3 3.11 2024-01-01 12:00:00 100% $4.50 1e-9 0x1F 8080 127.0.0.1 user@example.com").split()
shas = st.integers(0, 2**160 - 1).map(lambda n: f"{n:040x}")
sha256s = st.integers(0, 2**256 - 1).map(lambda n: f"{n:064x}")
short_shas = st.builds(lambda n, k: f"{n:040x}"[:k], st.integers(0, 2**160 - 1), st.integers(7, 12))
md5s = st.integers(0, 2**128 - 1).map(lambda n: f"{n:032x}")
uuids = st.builds(lambda n, up: str(uuid.UUID(int=n)).upper() if up else str(uuid.UUID(int=n)),
                  st.integers(0, 2**128 - 1), st.booleans())  # fmt: skip
hashes = st.one_of(shas, sha256s, short_shas, md5s, uuids)
words = st.one_of(st.sampled_from(WORDS), st.text(string.ascii_letters, min_size=1, max_size=12))
prose = st.lists(st.one_of(words, hashes), min_size=1, max_size=60).map(" ".join)

PLAIN_NAMES = ["name", "count", "path", "url", "commit", "sha", "digest", "checksum", "revision", "id", "request_id",
               "user", "mode", "timeout", "version", "hash", "etag"]
identifiers = st.sampled_from(["default_api_key_value", "getTokenFromEnvironment", "DEFAULT_PASSWORD_SETTING",
                               "settings.secret_key", "config_loader_v2", "os.environ['API_KEY']", "read_password()",
                               "None", "True", "''", "\"\"", "42", "3.14", "[]", "{}", "self.session_token_path"])
code_values = st.one_of(identifiers, words.map(lambda w: f'"{w}"'), st.integers().map(str), uuids)


@st.composite
def code_line(draw_: st.DrawFn) -> str:
    """A line of code, config or a shell: a plain name given anything (hashes too), or
    a secret-looking name given what is not a secret (a reference, a word, a number, a UUID)."""
    if draw_(st.booleans()):
        name, value = draw_(st.sampled_from(PLAIN_NAMES)), draw_(st.one_of(code_values, hashes))
    else:
        name, value = draw_(st.sampled_from(SECRET_NAMES)), draw_(code_values)
    form = draw_(st.sampled_from(["{name} = {value}", "{name}: {value}", '"{name}": {value},', "{name}={value}",
                                  "let {name} = {value};", "{name} := {value}"]))  # fmt: skip
    return form.format(name=name, value=value)


code = st.lists(code_line(), min_size=1, max_size=30).map("\n".join)


@given(prose)
def test_prose_is_no_secret(text: str) -> None:
    assert find_secrets(text) == ()
    assert mask_secrets(text) == text


@given(code)
def test_code_is_no_secret(text: str) -> None:
    assert find_secrets(text) == ()


@given(hashes, st.sampled_from(["key", "session", "token", "password", "the key is", "commit", "sha256:", "id ="]))
def test_hashes_and_uuids_are_no_secret_even_after_a_key_word(value: str, before: str) -> None:
    assert find_secrets(f"{before} {value}") == ()


def test_hex_assigned_to_a_secret_name_is_a_secret_but_a_hash_named_so_is_not() -> None:
    sha = "3f786850e387550fdab836ed7e6dc881de23001b"
    assert [f.kind for f in find_secrets(f"SECRET_KEY = '{sha}'")] == ["secret after SECRET_KEY"]  # token_hex(20)
    assert find_secrets(f"commit = '{sha}'") == find_secrets(f"the key {sha}") == ()
    assert find_secrets("session_id = '123e4567-e89b-12d3-a456-426614174000'") == ()


# -- what is ---------------------------------------------------------------------------------

separators = st.sampled_from([" ", "\n", "\t", " (", ' "', " '", " `", ": ", "=", ", ", " <", " ["])
closers = st.sampled_from([" ", "\n", ".", ",", ")", '"', "'", "`", ";", "!", "?", ">", "]", ""])


@given(st.sampled_from(sorted(SHAPES)), st.integers(0, 2**32), prose, prose, separators, closers)
def test_a_key_of_every_shape_is_found_anywhere(shape: str, seed: int, before: str, after: str, sep: str,
                                                close: str) -> None:  # fmt: skip
    prefix, make = SHAPES[shape]
    key = make(random.Random(seed))
    text = f"{before}{sep}{key}{close} {after}"
    at = len(before) + len(sep)
    found = find_secrets(text)
    [hit] = [f for f in found if f.start <= at < f.end]
    assert hit.kind == KIND_OF.get(shape, shape) and hit.start == at
    assert hit.shown >= 3 and key.startswith(text[hit.start : hit.start + hit.shown])
    masked = mask_secrets(text)
    assert key not in masked and key[len(prefix) + 4 :] not in masked  # nothing of the secret part is left
    assert text[hit.start : hit.start + hit.shown] + "***" in masked


@given(st.sampled_from(SECRET_NAMES), st.sampled_from(NAMED_FORMS), st.integers(0, 2**32), prose)
def test_a_random_value_after_a_secret_name_is_found(name: str, form: str, seed: int, after: str) -> None:
    value = random_value(random.Random(seed))
    text = form.format(name=name, value=value) + "\n" + after
    [hit] = [f for f in find_secrets(text) if value in text[f.start : f.end]]
    assert hit.kind == f"secret after {name.lstrip('-')}" and hit.shown == 0
    assert value not in mask_secrets(text)


@given(st.sampled_from(HEADER_FORMS), st.integers(0, 2**32))
def test_a_credential_after_an_auth_scheme_is_found(form: str, seed: int) -> None:
    value = random_value(random.Random(seed))
    assert value not in mask_secrets(form.format(value=value))


@given(st.lists(st.tuples(st.sampled_from(sorted(SHAPES)), st.integers(0, 2**32)), min_size=1, max_size=6), prose)
def test_every_key_in_a_message_is_found_once_and_masking_twice_changes_nothing(keys: list[tuple[str, int]],
                                                                                 filler: str) -> None:  # fmt: skip
    made = [SHAPES[shape][1](random.Random(seed)) for shape, seed in keys]
    text = f" {filler} ".join(["", *made, ""])
    found = find_secrets(text)
    assert len(found) == len(made)
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))  # in order, none overlapping
    masked = mask_secrets(text)
    assert not any(key in masked for key in made) and mask_secrets(masked) == masked


@given(st.sampled_from(sorted(SHAPES)), st.integers(0, 2**32), prose)
def test_a_mask_inside_json_keeps_it_json(shape: str, seed: int, filler: str) -> None:
    """The log's records and the stored chat's figures are JSON: a mask is inside the string."""
    key = SHAPES[shape][1](random.Random(seed))
    text = json.dumps({"messages": [{"role": "user", "content": f'{filler} "{key}" \\ {filler}'}], "n": 1})
    masked = mask_secrets(text)
    assert key not in masked and json.loads(masked)["n"] == 1


def test_a_finding_names_its_kind_and_place_never_its_value() -> None:
    key = "sk_live_" + draw(random.Random(1), B62, 32)
    text = f"@quality how do I list charges with key {key} ?"
    [found] = find_secrets(text)
    assert found == Finding("Stripe live key", text.index(key), text.index(key) + len(key), len("sk_live_"))
    assert key[8:] not in repr(found) and found.named == "a Stripe live key"
    assert mask_secrets(text) == "@quality how do I list charges with key sk_live_*** ?"
    aws = find_secrets("AKIA" + draw(random.Random(2), UPPER36, 16))
    assert describe((found, *aws)) == "a Stripe live key and an AWS access key ID"
    assert describe((found, found, found, *aws)) == "a Stripe live key and an AWS access key ID (and 2 more)"


def test_a_private_key_cut_short_is_masked_to_its_end() -> None:
    block = private_key(random.Random(3), "RSA PRIVATE KEY")
    cut = block[: len(block) // 2]
    assert mask_secrets(f"what is this?\n{cut}") == "what is this?\n-----BEGIN RSA PRIVATE KEY-----***"
    assert mask_secrets(f"{block}\n\nWhy does ssh refuse it?") == (
        "-----BEGIN RSA PRIVATE KEY-----***\n\nWhy does ssh refuse it?")


# -- any text, in linear time ------------------------------------------------------------------


@pytest.mark.parametrize(
    "unit",
    [
        "sk_live_" + "a1B2" * 8 + " ",  # key after key
        "api_key=" + "Zx81kqP02mvLq93Bnc7T ",  # named value after named value
        "-----BEGIN RSA PRIVATE KEY-----",  # headers with no END
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        "key" + " " * 50,  # a key word, then nothing
        "Zx81kqP02mvLq93Bnc7T",  # one endless token
        "eyJhbGciOi.",
        "-----BEGIN A A A A A A A A A A A A A A A A A A A A ",
    ],
)
def test_scanning_time_grows_linearly(unit: str) -> None:
    assert_linear(find_secrets, lambda n: unit * (n // len(unit)), sizes=(20_000, 40_000, 80_000))


@given(data=st.data())
def test_every_shape_starts_with_a_character_the_scan_tries(data: st.DataObject) -> None:
    """A key is looked for only where `_FIRST` may begin one: a shape added with another
    first character would never be found."""
    from assistant.core.typed_secrets import _FIRST, _SHAPES

    shape = data.draw(st.sampled_from(_SHAPES))
    key = data.draw(st.from_regex(f"{shape.prefix}{shape.body}", fullmatch=True).filter(lambda k: k.isascii()))
    assert key[0] in _FIRST


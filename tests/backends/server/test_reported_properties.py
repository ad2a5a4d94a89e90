"""Whatever a server reports, `ask --json` stays within its schema and the ledger within
bounds (issue 24): usage, timings and `/props` bodies are generated as any JSON (any
types, huge and negative numbers, bools, nulls, NaN, nesting) or as bytes that are
not JSON, and served by one loopback stub whose answer each example sets. The
examples are the profile's (tests/conftest.py): 40 by default, each a whole `ask`."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.backends.reported import MAX_TOKENS_PER_SECOND
from assistant.core.config import TOKENS_MAX
from assistant.core.store.ledger import Ledger
from tests.backends.server.stub import Reply, StubServer
from tests.cli.test_ask_json import valid
from tests.cli.test_servers_trust import run, server_flags

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
# A figure: mostly a number near a bound, sometimes anything at all.
FIGURE = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from([True, False, None, -1, 0, 1, 2**24, 2**24 + 1, 10**9, 10**12, 2**63]),
    st.floats(),
    JSON,
)
USAGE = st.one_of(
    st.fixed_dictionaries({}, optional={"prompt_tokens": FIGURE, "completion_tokens": FIGURE, "total_tokens": FIGURE}),
    JSON,
)
TIMINGS = st.one_of(
    st.fixed_dictionaries({}, optional={name: FIGURE for name in ("prompt_n", "cache_n", "prompt_ms", "predicted_n",
                                                                  "predicted_ms")}),  # fmt: skip
    JSON,
)
PROPS = st.one_of(
    st.fixed_dictionaries(
        {}, optional={"default_generation_settings": st.one_of(st.fixed_dictionaries({"n_ctx": FIGURE}), JSON),
                      "total_slots": FIGURE},
    ).map(lambda props: json.dumps(props).encode()),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=24),
)


@pytest.fixture(scope="module")
def stub() -> Iterator[StubServer]:
    with StubServer([Reply()]) as server:
        yield server


def believable_turns() -> None:
    with Ledger.open() as ledger:
        turns = ledger.turns()
    assert turns
    for t in turns:
        prompt = t.prompt_tokens
        assert prompt is None or 0 <= prompt <= TOKENS_MAX, t
        assert 0 <= t.completion_tokens <= TOKENS_MAX, t
        assert 0 <= t.cache_read_tokens <= (prompt or 0), t
        assert t.prompt_tokens_evaluated is None or 0 <= t.prompt_tokens_evaluated <= (prompt or 0), t
        for rate in (t.tokens_per_second, t.client_tokens_per_second):
            assert rate is None or (math.isfinite(rate) and rate >= 0), t
        assert not t.engine_timed or t.tokens_per_second <= MAX_TOKENS_PER_SECOND, t
        assert t.cost is None or (math.isfinite(t.cost) and t.cost >= 0), t


@given(usage=USAGE, timings=TIMINGS, props=PROPS, finish=st.booleans(), flag=st.sampled_from(["--json", "--stream-json"]))
def test_whatever_a_server_reports_the_json_is_valid_and_the_ledger_believable(
    stub: StubServer, usage: object, timings: object, props: bytes, finish: bool, flag: str
) -> None:
    stub.replies = [Reply(usage_body=usage, timings=timings, finish=finish)]
    stub.props = props
    code, out, err = run("ask", flag, "--backend", "gpu", *server_flags(stub.base_url), "Name three primes.")
    objects = [valid(json.loads(line)) for line in out.splitlines()]
    assert objects and objects[-1]["type"] == "done" and code in (0, 1), err
    done = objects[-1]
    # A context too small for the answer (`/props` may say n_ctx 1) is refused before the request.
    refused = done["outcome"] == "error" and done["error"]["kind"] == "context"
    assert refused or done["outcome"] == ("ok" if finish else "interrupted"), done
    assert "Traceback" not in err and "internal error" not in err
    believable_turns()

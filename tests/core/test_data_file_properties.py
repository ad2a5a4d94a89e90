"""Generated input at the file boundaries: config, theme, price and workload files,
`--set` assignments, and the ledger / session database. Each one reads to a
value or to one line of error, never a traceback, in time linear in its size."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistant.core import config as cfg
from assistant.core import routing
from assistant.core.store import saved_sessions as session_store
from assistant.core.config import ConfigError
from assistant.core.conversation import Exchange, Message
from assistant.core.store.ledger import MIGRATIONS, Ledger, LedgerError, TurnRecord
from assistant.core.accounting.workloads import WorkloadError, parse_workloads, read_workloads
from assistant.core.accounting.pricing import PriceError, parse_price_table
from tests.linear import assert_linear
from tests.stored import answered_by

# Text a person or a program may put in a file: TOML-ish fragments, any Unicode,
# and the pathological repetitions that break recursive or backtracking parsers.
TOMLISH = st.lists(
    st.sampled_from(["[", "]", "{", "}", "=", '"', "'", ".", ",", "\n", "#", " ", "a", "1", "nan", "inf",
                     "[local]", "n_ctx", "temperature", "true", "1e23", "[[x]]", "[prices.m]", "\\u0000"]),
    max_size=60,
).map("".join)
ANY_TEXT = st.one_of(TOMLISH, st.text(max_size=300))
REPEATS = st.builds(lambda piece, n: piece * n, st.sampled_from(["[", "a = [", "{a=", "a.", "~", "`", "\\", '"']),
                    st.integers(1, 5000))


def is_one_line(message: str) -> bool:
    return bool(message) and len(message.splitlines()) == 1 and len(message) < 2000


@given(st.one_of(ANY_TEXT, REPEATS))
def test_any_config_text_is_a_config_or_one_line(text: str) -> None:
    try:
        routing.check_settings(cfg.parse(text, "config.toml"))  # the plugins' tables too
    except ConfigError as exc:
        assert is_one_line(str(exc))


@given(st.binary(max_size=500))
def test_any_config_bytes_are_a_config_or_one_line(tmp_path_factory, data: bytes) -> None:  # noqa: ANN001
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_bytes(data)
    try:
        cfg.load(path)
    except ConfigError as exc:
        assert is_one_line(str(exc))


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 100_000,
        "a = " + "{b=" * 100_000,
        "[" + "a." * 50_000 + "a]\nx = 1",
        "[local]\nn_ctx = " + "9" * 5000,
        "[local]\ntemperature = " + "9" * 400 + ".0",
        '[local]\nmodel_path = "' + "~" * 100_000 + '"',
        '["' + "\\n" * 1000 + '"]\nx = 1',
    ],
)
def test_pathological_config_files_are_one_line(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        routing.check_settings(cfg.parse(text, "config.toml"))  # `[local]`: the local backend's options
    assert is_one_line(str(caught.value))


def test_a_huge_config_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with open(path, "wb") as f:
        f.truncate(3 << 30)  # 3 GiB, sparse
    with pytest.raises(ConfigError, match="larger than"):
        cfg.load(path)


def test_parsing_a_config_takes_linear_time() -> None:
    assert_linear(
        lambda text: cfg.parse(text, "c"),
        lambda n: "[general]\nsystem_prompt = '" + "x" * n + "'\n" + "# comment\n" * (n // 10),
        sizes=(50_000, 100_000, 200_000),
    )


@given(st.one_of(ANY_TEXT, REPEATS))
def test_any_set_assignment_is_a_config_or_one_line(text: str) -> None:
    try:
        key, value = cfg.parse_assignment(text)
        routing.check_settings(cfg.Config().with_overrides({key: value}))  # a plugin's setting too
    except ConfigError as exc:
        assert is_one_line(str(exc))


@pytest.mark.parametrize(
    ("assignment", "key"),
    [("backends.local.n_ctx=1e23", "backends.local.n_ctx"), ("backends.local.temperature=nan", "backends.local.temperature"),
     ("backends.local.temperature=-inf", "backends.local.temperature"), ("routers.budget.near=2", "routers.budget.near"),
     ("backends.claude.max_tokens=0", "backends.claude.max_tokens"), ("backends.local.top_p=1.5", "backends.local.top_p"),
     ("window.slide_fraction=2", "window.slide_fraction")],
)
def test_numbers_out_of_range_name_key_value_and_range(assignment: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        routing.check_settings(cfg.Config().with_overrides(dict([cfg.parse_assignment(assignment)])))
    message = str(caught.value)
    assert f"{key}: " in message and "got " in message
    assert " from " in message or "at least" in message


@given(st.one_of(ANY_TEXT, REPEATS))
def test_any_theme_text_is_a_theme_or_one_line(text: str) -> None:
    from assistant.ui.themes import ThemeError, parse_theme

    try:
        parse_theme(text)
    except ThemeError as exc:
        assert is_one_line(str(exc))


@pytest.mark.parametrize("text", ["name = " + "[" * 100_000, 'name = "x"\nprimary = "#fff"\n[variables]\n"a\\nb" = "#fff"'])
def test_pathological_theme_files_are_one_line(text: str) -> None:
    from assistant.ui.themes import ThemeError, parse_theme

    with pytest.raises(ThemeError) as caught:
        parse_theme(text)
    assert is_one_line(str(caught.value))


@pytest.mark.parametrize("text", ["a = " + "[" * 100_000, "[workloads.x]\ntitle = " + "{a=" * 100_000])
def test_pathological_price_and_workload_files_are_one_line(text: str) -> None:
    for parse, error in ((parse_price_table, PriceError), (parse_workloads, WorkloadError)):
        with pytest.raises(error) as caught:
            parse(text, "f.toml")
        assert is_one_line(str(caught.value))


@given(st.dictionaries(st.sampled_from(["name", "primary", "dark", "variables", "accent"]),
                       st.one_of(st.text(max_size=30), st.integers(), st.booleans(),
                                 st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3))))
def test_theme_tables_of_any_values_are_a_theme_or_one_line(table: dict) -> None:
    from assistant.core.config import toml_value
    from assistant.ui.themes import ThemeError, parse_theme

    lines, tables = [], []
    for key, value in table.items():
        if isinstance(value, dict):
            tables.append(f"[{key}]\n" + "".join(f"{toml_value(k)} = {toml_value(v)}\n" for k, v in value.items()))
        else:
            lines.append(f"{key} = {toml_value(value)}\n")
    try:
        parse_theme("".join(lines) + "".join(tables))
    except ThemeError as exc:
        assert is_one_line(str(exc))


@given(st.one_of(ANY_TEXT, REPEATS))
def test_any_price_text_is_a_table_or_one_line(text: str) -> None:
    try:
        parse_price_table(text, "prices.toml")
    except PriceError as exc:
        assert is_one_line(str(exc))


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e400", "9" * 400])
def test_prices_must_be_finite_and_not_negative(value: str) -> None:
    text = f'[models."m"]\ninput = {value}\noutput = 1\ncache_write_5m = 1\ncache_write_1h = 1\ncache_read = 1\n'
    with pytest.raises(PriceError, match="input"):
        parse_price_table(text, "prices.toml")


@given(st.one_of(ANY_TEXT, REPEATS))
def test_any_workload_text_is_workloads_or_one_line(text: str) -> None:
    try:
        parse_workloads(text, "w.toml")
    except WorkloadError as exc:
        assert is_one_line(str(exc))


def test_a_workload_of_too_many_requests_is_refused_not_simulated() -> None:
    text = '[workloads.big]\n' + "".join(
        f'[[workloads.big.items]]\nname = "i{i}"\nkind = "batch"\ncount = 1000000\noutput_tokens = 10\n' for i in range(3)
    )
    with pytest.raises(WorkloadError, match="at most"):
        parse_workloads(text, "w.toml")


def test_a_workload_file_of_bytes_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_bytes(b"\xff\xfe" * 100)
    with pytest.raises(WorkloadError) as caught:
        read_workloads(path)
    assert is_one_line(str(caught.value))


# -- the ledger and the session database ---------------------------------------------


def make_ledger(path: Path) -> Path:
    with Ledger.open(path) as ledger:
        ledger.start_session("s1", started_at=1.0e9, cwd="/w", title="t")
        for i in range(5):
            ledger.record_turn(TurnRecord("s1", 1.0e9 + i, "local", "m", "ok", cost=0.0, prompt_tokens=i))
        session_store.append_exchange(
            ledger, "s1", session_store.StoredExchange(Exchange(Message("user", "q"), Message("assistant", "a")))
        )
        session_store.save_state(ledger, "s1", mode="auto", system_prompt="s", pinned=[], window_starts={"local": 0})
    return path


def read_everything(ledger: Ledger) -> None:
    ledger.turns()
    ledger.sessions()
    ledger.bench_results()
    ledger.proposals()
    ledger.last_session_id()
    for record, _ in session_store.listing(ledger, "q"):
        session_store.load(ledger, record.id)


@pytest.fixture(scope="module")
def good_ledger_bytes(tmp_path_factory) -> bytes:  # noqa: ANN001
    return make_ledger(tmp_path_factory.mktemp("l") / "ledger.sqlite3").read_bytes()


@given(st.binary(max_size=3000), st.booleans())
def test_a_garbage_ledger_is_read_or_one_line(tmp_path_factory, data: bytes, read_only: bool) -> None:  # noqa: ANN001
    path = tmp_path_factory.mktemp("g") / "ledger.sqlite3"
    path.write_bytes(data)
    try:
        with Ledger.open(path, read_only=read_only) as ledger:
            read_everything(ledger)
    except LedgerError as exc:
        assert is_one_line(str(exc))


@given(st.data())
def test_a_damaged_ledger_is_read_or_one_line(tmp_path_factory, good_ledger_bytes: bytes, data) -> None:  # noqa: ANN001
    damaged = bytearray(good_ledger_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at:at + 4] = data.draw(st.binary(min_size=1, max_size=4))
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    path = tmp_path_factory.mktemp("d") / "ledger.sqlite3"
    path.write_bytes(bytes(damaged))
    try:
        with Ledger.open(path, read_only=data.draw(st.booleans())) as ledger:
            read_everything(ledger)
    except LedgerError as exc:
        assert is_one_line(str(exc))


def test_rows_of_the_wrong_type_are_one_line(tmp_path: Path) -> None:
    path = make_ledger(tmp_path / "ledger.sqlite3")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE turns SET cost = 'lots' WHERE id = 1")
        conn.execute("UPDATE session_state SET state = '[1, 2'")
    with Ledger.open(path) as ledger:
        with pytest.raises(LedgerError, match="damaged"):
            ledger.turns()
        with pytest.raises(LedgerError, match="damaged"):
            session_store.load(ledger, "s1")


def test_a_ledger_from_a_future_schema_is_one_line(tmp_path: Path) -> None:
    path = make_ledger(tmp_path / "ledger.sqlite3")
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    for read_only in (False, True):
        with pytest.raises(LedgerError, match="newer version") as caught:
            Ledger.open(path, read_only=read_only)
        assert is_one_line(str(caught.value))


def test_read_only_open_reads_everything_and_writes_nothing(tmp_path: Path) -> None:
    path = make_ledger(tmp_path / "ledger.sqlite3")
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns)
    with Ledger.open(path, read_only=True) as ledger:
        assert len(ledger.turns()) == 5
        assert [s.id for s in ledger.sessions()] == ["s1"]
        assert session_store.load(ledger, "s1").exchanges[0].exchange.user.content == "q"
        with pytest.raises(LedgerError, match="read-only"):
            ledger.record_turn(TurnRecord("s1", 2.0e9, "local", "m", "ok"))
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns) == before


def test_an_older_schema_read_only_is_outdated_and_upgraded_when_it_can_be(tmp_path: Path) -> None:
    from assistant.core.store.ledger import LedgerOutdated

    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        MIGRATIONS[0](conn)
        conn.execute("PRAGMA user_version = 1")
    with pytest.raises(LedgerOutdated, match="older version") as caught:
        Ledger.open(path, read_only=True)
    assert is_one_line(str(caught.value))
    with Ledger.open_to_read(path) as ledger:  # writable: upgraded, then read
        assert ledger.turns() == []


# Cs: lone surrogates, as argv and surrogateescape'd stdin carry bytes that are not UTF-8.
SURROGATES = st.text(st.characters(categories=["Cs"]) | st.sampled_from(["a", " ", "\udcff", "é"]), max_size=50)


@example("hi \udcff there", "\ud800", "caf\udcc3")
@given(SURROGATES, SURROGATES, SURROGATES)
def test_the_ledger_and_session_store_keep_any_text(tmp_path_factory, title: str, error: str, answer: str) -> None:  # noqa: ANN001
    path = tmp_path_factory.mktemp("s") / "ledger.sqlite3"
    with Ledger.open(path) as ledger:
        ledger.start_session("s1", started_at=1.0, cwd=title, title=title)
        ledger.set_title("s1", title)
        ledger.record_turn(TurnRecord("s1", 1.0, "local", error, "error", error=error, route_reason=error))
        item = session_store.StoredExchange(Exchange(Message("user", title), Message("assistant", answer)),
                                            answered_by(model=error, reason=answer, fallback_from=title))
        session_store.append_exchange(ledger, "s1", item)
        session_store.replace_exchanges(ledger, "s1", [item])
        session_store.save_state(ledger, "s1", mode="auto", system_prompt=answer,
                                 pinned=[Message("system", title)], window_starts={})
        stored = session_store.load(ledger, "s1")
        [turn] = ledger.turns()
    result = stored.exchanges[0].result
    kept = [stored.title, stored.system_prompt, stored.pinned[0].content, stored.exchanges[0].exchange.user.content,
            turn.error, turn.model, result.model, result.decision.reason, result.fallback_from]
    for text in kept:
        text.encode("utf-8")  # no lone surrogate came back

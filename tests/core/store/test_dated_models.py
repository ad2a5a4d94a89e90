"""A model's figures are found under its alias and under any dated id of it: an API
answers `claude-sonnet-5-5` with the snapshot it served (`…-20261001`), turns are
recorded under that, and the router asks by the configured alias."""

from __future__ import annotations

from assistant.backends.scripted import ScriptedBackend
from assistant.core import store
from assistant.core.config import Config
from assistant.core.session.recorder import TurnRecorder
from assistant.core.store.ledger import Ledger
from assistant.core.store.records import TurnRecord, undated


def test_undated_drops_only_a_date_suffix():
    assert undated("claude-sonnet-5-5-20261001") == "claude-sonnet-5-5"
    assert undated("claude-sonnet-5-5") == "claude-sonnet-5-5"
    assert undated("model-2026") == "model-2026"  # not a date
    assert undated("SmolLM2 135M Instruct") == "SmolLM2 135M Instruct"


def test_turns_and_ratings_under_a_dated_id_count_for_the_alias() -> None:
    with Ledger.open() as ledger:
        ids = []
        for i in range(3):
            ids.append(ledger.record_turn(TurnRecord("s", 1000.0 + i, "claude", "claude-sonnet-5-5-20261001", "ok", kind="code",
                                     completion_tokens=50, tokens_per_second=40.0, ttft=0.5)))  # fmt: skip
        for turn_id in ids:
            store.ratings.rate(ledger, turn_id, "bad", "rating", 2000.0)
        assert len(ledger.recent("claude", "claude-sonnet-5-5", limit=10)) == 3
        assert ledger.recent("claude", "claude-sonnet-5", limit=10) == []  # another model
    recorder = TurnRecorder(Config(), Ledger.open, lambda: 3000.0)
    claude = ScriptedBackend(name="claude", local=False, model_name="claude-sonnet-5-5")
    assert recorder.measured(claude).turns == 3
    assert recorder.quality(claude, "code").bad == 3

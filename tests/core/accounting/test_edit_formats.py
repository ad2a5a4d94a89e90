"""The edit format per backend and model, by measurement: the configured one to
start with, another once its recorded proposals show it works better."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.core.accounting.edit_formats import BLOCKS, WHOLE, chosen_format, format_figures
from assistant.core.accounting.report import build_report
from assistant.core.store.ledger import Ledger
from assistant.core.store.records import ProposalRecord

PASSED = json.dumps([{"name": "syntax", "status": "passed", "seconds": None}])
FAILED = json.dumps([{"name": "syntax", "status": "passed", "seconds": None}, {"name": "tests", "status": "failed", "seconds": 1.0}])


def proposal(fmt: str, outcome: str = "applied", *, checks: str = PASSED, parsed: bool = True,
             undone: float | None = None, model: str = "m") -> ProposalRecord:
    return ProposalRecord("s", 1.0, "local", model, "a.py", outcome, edit_format=fmt, parsed=parsed, checks=checks,
                          undone_at=undone)


def test_figures_count_what_parsed_passed_and_was_kept() -> None:
    records = [proposal(WHOLE), proposal(WHOLE, undone=5.0), proposal(WHOLE, "failed", parsed=False, checks="[]"),
               proposal(WHOLE, "rejected", checks=FAILED), proposal("", "applied")]  # "": before migration 7
    [f] = format_figures(records)
    assert (f.edit_format, f.proposals, f.parsed, f.applied, f.checks_passed, f.kept) == (WHOLE, 4, 3, 1, 2, 1)
    assert f.worked == 0.25


def test_the_configured_format_stands_until_another_is_measured_to_work_better() -> None:
    assert chosen_format((), "local", "m", WHOLE) == WHOLE
    few = format_figures([proposal(BLOCKS)] * 2)  # two proposals are not a measurement
    assert chosen_format(few, "local", "m", WHOLE) == WHOLE
    better = format_figures([proposal(BLOCKS)] * 3 + [proposal(WHOLE, "failed", parsed=False, checks="[]")] * 3)
    assert chosen_format(better, "local", "m", WHOLE) == BLOCKS
    assert chosen_format(better, "local", "another-model", WHOLE) == WHOLE  # per model
    worse = format_figures([proposal(BLOCKS, "failed", parsed=False, checks="[]")] * 3 + [proposal(WHOLE)] * 3)
    assert chosen_format(worse, "local", "m", WHOLE) == WHOLE


def test_the_refactorer_asks_for_the_format_that_works_for_its_model(tmp_path: Path) -> None:
    from assistant.backends.scripted import ScriptedBackend
    from assistant.core.config import Config
    from assistant.core.session.chat import ChatSession
    from assistant.core.workflows.refactor import Refactorer

    with Ledger.open() as ledger:
        for _ in range(3):
            ledger.record_proposal(proposal(BLOCKS, model="scripted-model"))
    config = Config()  # `local` is configured for whole files
    session = ChatSession(config, ScriptedBackend(["x"], name="local"), ledger=Ledger.open, project_root=tmp_path)
    assert Refactorer(session, tmp_path).whole_file("local") is False


def test_the_report_shows_proposals_per_backend_model_and_format() -> None:
    report = build_report([], proposals=[proposal(BLOCKS)] * 3 + [proposal(WHOLE, "rejected")])
    assert [(f.edit_format, f.proposals, f.worked) for f in report.edit_formats] == [(BLOCKS, 3, 1.0), (WHOLE, 1, None)]


def test_the_other_format_is_tried_one_time_in_four_while_the_one_in_use_fails_and_it_is_unmeasured() -> None:
    failing = [proposal(WHOLE)] * 2 + [proposal(WHOLE, "failed", parsed=False, checks="[]")] * 1  # 3 proposals
    assert chosen_format(format_figures(failing), "local", "m", WHOLE) == BLOCKS  # the 4th proposal explores
    four = failing + [proposal(WHOLE)]
    assert chosen_format(format_figures(four), "local", "m", WHOLE) == WHOLE  # the 5th does not
    always = [proposal(WHOLE)] * 3  # never fails: nothing to find out
    assert chosen_format(format_figures(always), "local", "m", WHOLE) == WHOLE
    measured = failing + [proposal(BLOCKS, "failed", parsed=False, checks="[]")] * 3 + [proposal(WHOLE)] * 1
    assert chosen_format(format_figures(measured), "local", "m", WHOLE) == WHOLE  # both measured: the better one

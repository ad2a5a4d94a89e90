"""How each edit format works out per backend and model, from the recorded
proposals: how many parsed, were applied (and kept: not undone), and passed
their checks; and the format a model is asked for, chosen on those figures.

The configured `[edits] whole_file_backends` is the starting point. A format
measured on at least `MIN_PROPOSALS` proposals of a model replaces it when its
share of proposals that worked (parsed, passed every check, applied and not
undone) is higher than the configured format's, or when the configured one
has not been measured enough. A format nobody asked for is never measured, so
while the one in use fails sometimes and the other has too few proposals, the
other is tried in one proposal of `EXPLORE_EVERY` (counted, not random: the
same ledger gives the same choice).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.core.store.records import ProposalRecord

MIN_PROPOSALS = 3
EXPLORE_EVERY = 4  # while the other format is unmeasured and the one in use fails: 1 proposal in 4 tries it
WHOLE, BLOCKS = "whole-file", "search-replace"


@dataclass(frozen=True, slots=True)
class FormatFigures:
    backend: str
    model: str
    edit_format: str
    proposals: int
    parsed: int
    applied: int  # and not undone since
    checks_passed: int  # every check it ran passed (syntax, and lint/tests when set)
    kept: int  # parsed, passed its checks, applied and not undone: it worked

    @property
    def worked(self) -> float | None:
        """The share of proposals that worked; None below MIN_PROPOSALS."""
        return self.kept / self.proposals if self.proposals >= MIN_PROPOSALS else None


def _checks_passed(record: ProposalRecord) -> bool:
    try:
        checks = json.loads(record.checks)
    except ValueError:
        return False
    if not isinstance(checks, list):
        return False
    return record.parsed and all(isinstance(c, dict) and c.get("status") in ("passed", "failed before") for c in checks)


def format_figures(records: Iterable[ProposalRecord]) -> tuple[FormatFigures, ...]:
    """Per backend, model and format (proposals before migration 7 have none: left out)."""
    groups: dict[tuple[str, str, str], list[ProposalRecord]] = {}
    for r in records:
        if r.edit_format:
            groups.setdefault((r.backend, r.model, r.edit_format), []).append(r)
    return tuple(
        FormatFigures(
            backend, model, fmt, len(rs),
            parsed=sum(r.parsed for r in rs),
            applied=sum(r.outcome == "applied" and r.undone_at is None for r in rs),
            checks_passed=sum(_checks_passed(r) for r in rs),
            kept=sum(_checks_passed(r) and r.outcome == "applied" and r.undone_at is None for r in rs),
        )
        for (backend, model, fmt), rs in sorted(groups.items())
    )


def chosen_format(figures: Sequence[FormatFigures], backend: str, model: str, configured: str) -> str:
    """The format to ask `backend`'s `model` for: the configured one, unless another
    is measured (enough) to work better for this model; and, while the other format
    is not measured yet and the one in use fails sometimes, the other one in one
    proposal of `EXPLORE_EVERY`, so that it ever gets measured."""
    mine = {f.edit_format: f for f in figures if f.backend == backend and f.model == model}
    shares = {fmt: f.worked for fmt, f in mine.items()}
    best = max(((share, fmt) for fmt, share in shares.items() if share is not None), default=None)
    current = shares.get(configured)
    chosen = best[1] if best is not None and (current is None or best[0] > current) else configured
    other = BLOCKS if chosen == WHOLE else WHOLE
    used, tried = mine.get(chosen), mine.get(other)
    unmeasured = tried is None or tried.proposals < MIN_PROPOSALS
    failing = used is not None and used.worked is not None and used.worked < 1.0
    total = sum(f.proposals for f in mine.values())
    if unmeasured and failing and total % EXPLORE_EVERY == EXPLORE_EVERY - 1:
        return other
    return chosen

"""Which backends' models nothing has measured the quality of yet, and how long
`assistant eval --backend NAME --limit 20` would take to measure it: the welcome
says it for each such backend, and `assistant ask` once per model (a marker in the
data folder says it was said).

A model is unmeasured while it has no evaluation row and no rated answer on `code`
or on `edit`, the kinds the quality router weighs it on. Nothing is guessed about
the time: it is the backend's measured speed (the ledger's turns and bench runs,
read as the route estimates read them, through the same estimate) × an answer's
length, per task, for the tasks a run takes, as many at once as the backend serves.
The answer's length is the mean of earlier evaluations' answers (this backend's
other models first, else any backend's: "measured"), else that of HumanEval's own
solutions, each the whole function an evaluation asks for, counted by the backend's
own counter ("from its speed"). Without a measured speed the time stays unknown.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from assistant.core import routing, store
from assistant.core.backends.protocol import Backend
from assistant.core.conversation import Message
from assistant.core.decisions import BackendProfile, Measured, RouteContext
from assistant.core.evals import humaneval
from assistant.core.evals.runner import TASK_SETS, select
from assistant.core.routing.protocol import estimate
from assistant.core.session.chat import ChatSession
from assistant.core.session.plan import Basis, Unmeasured
from assistant.core.store.records import EvalSample
from assistant.core.window.counters import window_counter

log = logging.getLogger(__name__)

LIMIT = 20  # the run the line proposes: `--limit 20`, HumanEval's first 20 problems
KIND = "code"  # the kind `assistant eval` measures by default, whose task set the line times
QUALITY_KINDS = ("code", "edit")  # a model rated or evaluated on either is measured
SAID_FOLDER = ("said", "unmeasured")  # under the data folder: one marker per backend and model


def unmeasured(session: ChatSession, names: Iterable[str], *, limit: int = LIMIT) -> tuple[Unmeasured, ...]:
    """The backends among `names` whose model's quality is not measured, each with what
    measuring it takes; none when the ledger cannot be read (nothing tells them apart)."""
    ledger = session.ledger()
    if ledger is None:
        return ()
    try:
        rated = store.ratings.counts(ledger)
        evaluated = store.evals.evidence(ledger)
        found: list[Unmeasured] = []
        earlier: list[EvalSample] | None = None  # read once, for the first backend that needs an answer's length
        for name in names:
            backend = session.backend_named(name)
            model = store.undated(backend.model_name)
            keys = [(backend.name, model, kind) for kind in QUALITY_KINDS]
            if any(sum(rated.get(key, (0, 0))) + sum(evaluated.get(key, (0, 0))) for key in keys):
                continue
            figures = _speed(ledger, backend, session.config.router.measured_turns)
            if figures.tokens_per_second is None or figures.ttft is None:
                found.append(Unmeasured(name, backend.model_name, limit))
                continue
            if earlier is None:
                earlier = store.evals.samples(ledger, task_set=TASK_SETS[KIND].name)
            found.append(_timed(name, backend, figures, earlier, limit))
    except store.LedgerError as exc:
        log.warning("cannot tell which models' quality is measured: %s", exc)
        return ()
    return tuple(found)


def said_once(data_dir: Path, backend: str, model: str) -> bool:
    """True the first time it is asked for this backend and model (its marker is made
    now); False after, or when the marker cannot be made (then nothing is said again)."""
    key = f"{backend}\0{store.undated(model)}".encode("utf-8", "surrogateescape")
    folder = data_dir.joinpath(*SAID_FOLDER)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / hashlib.sha256(key).hexdigest()[:20]).open("x", encoding="utf-8") as marker:
            marker.write(f"{backend} · {model}: told its quality is not measured yet\n")
    except FileExistsError:
        return False
    except OSError as exc:
        log.warning("cannot keep the unmeasured-quality marker: %s", exc)
        return False
    return True


def _speed(ledger: store.Ledger, backend: Backend, limit: int) -> Measured:
    """The figures the router has for it: its recent measured turns and its bench runs."""
    model = store.undated(backend.model_name)
    records = ledger.recent(backend.name, model, limit=limit)
    return routing.measured(records, ledger.bench_results(backend=backend.name, model=model, limit=limit))


def _timed(name: str, backend: Backend, figures: Measured, earlier: list[EvalSample], limit: int) -> Unmeasured:
    """The run's time from its speed and an answer's length (earlier answers, else HumanEval's)."""
    mine = [s for s in earlier if s.backend == backend.name and s.tokens_out]
    used = mine or [s for s in earlier if s.tokens_out]
    checks = 0.0
    basis: Basis = "measured"
    if used:
        answer: float | None = statistics.fmean(s.tokens_out or 0 for s in used)
        checks = statistics.fmean(s.check_seconds for s in used)  # the tests' own run time, as measured
    else:
        answer, basis = _solutions_length(backend, limit), "from its speed"
    if answer is None:
        return Unmeasured(name, backend.model_name, limit, tokens_per_second=figures.tokens_per_second)
    profile = BackendProfile(backend.name, backend.model_name, True, local=backend.capabilities.local,
                             measured=replace(figures, completion_tokens=answer))  # fmt: skip
    each = estimate(profile, RouteContext((profile,))).seconds
    slots = max(1, backend.capabilities.max_concurrency)
    seconds = None if each is None else limit * (each + checks) / slots
    return Unmeasured(name, backend.model_name, limit, seconds, figures.tokens_per_second, answer, basis)


def _solutions_length(backend: Backend, limit: int) -> float | None:
    """The mean length, in the backend's tokens, of the run's problems' canonical
    solutions written as the whole function an evaluation asks for; None without them."""
    try:
        chosen = select(TASK_SETS[KIND].tasks(), limit=limit, seed=None)
    except humaneval.DataMissing as exc:
        log.warning("no answer length for the evaluation's time: %s", exc)
        return None
    problems = [task.data for task in chosen if isinstance(task.data, humaneval.Problem)]
    if not problems:
        return None
    counter = window_counter(backend)
    answers = (f"```python\n{p.prompt}{p.canonical_solution}```" for p in problems)
    return statistics.fmean(counter.message_tokens(Message("assistant", text)) for text in answers)

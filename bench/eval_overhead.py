"""What `assistant eval` itself adds to an evaluation's time, on the embedded model.

--tasks HumanEval problems (the first ones, as `--limit` takes them) asked of the
embedded SmolLM2 through `runner.run`, as `assistant eval --backend local --kind
code` runs them: the app's settings for the local backend, a batch session with a
real ledger in a temporary ASSISTANT_HOME, the backend's own slots, every sample
scored in the sandbox (no network where the OS allows it) and written to the ledger.

Measured: the run's wall time, from `runner.plan` to the last sample written; each
sample's model time (`EvalSample.model_seconds`: the turn, first token to last) and
check time (`check_seconds`: the candidate's run in the sandbox, from its start to
its end). What is left is the harness's own: routing, the window, reading the code
out of the answer, the scratch folder, the ledger writes. Loading the model is not
part of it (shown apart).

Target: wall <= 1.2 x (sum of model time + sum of check time). With more than one
slot the parts overlap and the sum overstates them; the embedded backend has one.
Exits 1 when the target is missed.

    python bench/eval_overhead.py [--tasks 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time

from assistant.core import plugins
from assistant.core.config import Config
from assistant.core.evals import execute, runner
from assistant.core.paths import Paths
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.store.records import EvalSample
from targets import report

RATIO_LIMIT = 1.2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=20, help="HumanEval problems to ask (default 20)")
    args = parser.parse_args()
    if args.tasks < 1:
        parser.error("--tasks must be at least 1")
    os.environ["ASSISTANT_HOME"] = tempfile.mkdtemp(prefix="bench-eval-home-")  # a fresh ledger: nothing skipped
    os.environ.pop("ANTHROPIC_API_KEY", None)
    ledger_file = Paths.resolve().ledger_file
    ledger_file.parent.mkdir(parents=True, exist_ok=True)
    config = Config().with_overrides({"general.backend": "local"})
    print(execute.isolation()[1])
    started = time.perf_counter()
    backend = plugins.create_backend(config, "local")
    backend.load()
    loaded = time.perf_counter() - started
    session = ChatSession(config, backend, ledger=lambda: Ledger.open(ledger_file), batch=True, installed=False,
                          named_by="named with --backend")  # fmt: skip
    slots = max(1, backend.capabilities.max_concurrency)
    samples: list[EvalSample] = []
    try:
        started = time.perf_counter()
        chosen = runner.plan(session, "local", limit=args.tasks)
        runner.run(session, chosen, threading.Event(), samples.append, slots=slots)
        wall = time.perf_counter() - started
    finally:
        session.close()
    model = sum(s.model_seconds for s in samples)
    check = sum(s.check_seconds for s in samples)
    parts = model + check
    ratio = wall / parts if parts else float("inf")
    passed = sum(s.passed for s in samples)
    print(f"{backend.model_name}: loaded in {loaded:.1f} s; {len(samples)} of {len(chosen.tasks)} tasks, "
          f"{passed} passed, {sum(s.well_formed for s in samples)} with code, {slots} slot(s)")  # fmt: skip
    print(f"  wall {wall:.2f} s; model {model:.2f} s + checks {check:.2f} s = {parts:.2f} s; "
          f"harness {wall - parts:.2f} s ({(wall - parts) / max(1, len(samples)) * 1000:.0f} ms a task)")  # fmt: skip
    return report([
        (f"all {len(chosen.tasks)} tasks scored: {len(samples)}", len(samples) == len(chosen.tasks) == args.tasks,
         f"{args.tasks}"),
        (f"wall / (model + checks) = {ratio:.3f}", ratio <= RATIO_LIMIT, f"<= {RATIO_LIMIT}"),
    ], width=48)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

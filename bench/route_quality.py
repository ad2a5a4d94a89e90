"""What the `quality` router buys: a simulated chat where each backend's good rate per kind is known.

Two scripted backends through the real app (`ChatSession.run_turn`, a fresh
ledger file per strategy): `local` (free) and `claude` (priced as
claude-sonnet-5-5 by the app's price table, from the tokens it counts). Each
has a hidden good rate per kind of turn; after each turn the answer is drawn
good or bad from the rate of (the backend that answered, the turn's kind) and
rated with `session.rate()`, which is how the quality router learns (it reads
the ratings back from the ledger).

The turns: --turns prompts from a small bank per kind (every one checked to be
classified as its kind by the app's own `classify`), in conversations of a few
turns (`/clear` between them, so prompts stay chat-sized), with answers of
realistic length per kind. Every strategy sees the same turns and the same
outcome draws (one uniform per turn: good when it falls under the rate).

Strategies: `quality` (the quality router, then rules), `rules`, `all-claude`,
`all-local`, and `oracle`: each kind statically to the cheapest backend whose
TRUE rate meets the floor (else the best one).

Mix A is fixed; mix B's shares and rates are drawn at run time (its seed is
printed; --seed-b reruns it), so nothing is tuned to it; its local rates lie
outside the floor ± FLOOR_BAND, where no run could tell them from the floor.

Targets for `quality`, over the turns after the warm-up (300):
- each kind's realized quality >= floor - 0.03 (mix B, on a kind no backend can
  reach the floor on: >= the oracle's realized quality there - 0.03);
- cost <= 1.15 x the oracle's;
- mix A: cost <= 0.6 x all-Claude's (>= 40% cheaper).
Exits 1 when one is missed.

The strategies run in --jobs processes at once (2 by default), so the ms/turn
column is per process, under that much contention.

    python bench/route_quality.py [--turns 2000] [--seed 1] [--seed-b N] [--floor 0.8] [--quick] [--jobs 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.decisions import RouteContext, RouteDecision, TurnRequest
from assistant.core.routing.chain import RouterChain
from assistant.core.routing.kinds import classify
from assistant.core.routing.protocol import Router, estimates
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.store.ledger import Ledger
from assistant.routers.fixed import FixedRouter
from assistant.routers.quality import QualityRouter
from assistant.routers.rules import RulesRouter

KINDS = ("chat", "explain", "code", "edit")
BACKENDS = ("local", "claude")  # cheapest first
CLAUDE_MODEL = "claude-sonnet-5-5"
QUALITY_SLACK = 0.03
ORACLE_COST_TARGET = 1.15
ALL_CLAUDE_COST_TARGET = 0.60
CONVERSATION_TURNS = (1, 8)  # turns per conversation, uniform; `/clear` between them

# -- the turns -------------------------------------------------------------------------

PROMPTS: Mapping[str, Sequence[str]] = {
    "chat": (
        "thanks, that worked!",
        "hi there",
        "ok, I'll try that after lunch.",
        "great, that's all for today",
        "cool, the build is green now",
        "hello again",
    ),
    "explain": (
        "what does the GIL actually do in CPython?",
        "explain the difference between a list and a tuple",
        "why does my import fail with a circular import error?",
        "how does asyncio schedule coroutines?",
        "when should I use a dataclass instead of a namedtuple?",
        "is Python's sort stable?",
        "what is the difference between git rebase and git merge?",
    ),
    "code": (
        "write a function that parses ISO 8601 dates",
        "can you implement an LRU cache class in Python?",
        "give me a bash one-liner to count lines in all .py files",
        "write a regex that matches email addresses",
        "create a pytest fixture for a temporary sqlite database",
        "generate a Dockerfile for a small Flask app",
        "write a python script that renames files by date",
    ),
    "edit": (
        "refactor this function: ```def f(x): return x+1```",
        "fix the bug in this code:\n```python\ndef mean(xs):\n    return sum(xs) / len(xs) + 1\n```",
        "simplify this loop:\n```python\nout = []\nfor x in xs:\n    if x % 2 == 0:\n        out.append(x * x)\n```",
        "add type hints to this function: ```def join(parts, sep): return sep.join(parts)```",
        "rename the variables in this snippet so they are clearer: ```a = [b for b in c if b]```",
        "can you make it faster? ```python\nfor i in range(len(xs)):\n    total = total + xs[i]\n```",
    ),
}

# Answer lengths in words (mean; each answer is drawn within +-40%).
ANSWER_WORDS: Mapping[str, int] = {"chat": 30, "explain": 150, "code": 250, "edit": 200}
_PROSE = (
    "the function returns a new value so callers never see the old state and the loop stays simple "
    "because each step reads its input once then writes the result which keeps memory flat while "
    "tests cover the edge cases such as an empty list a missing key or a very large input"
).split()
_CODE_LINES = (
    "def handle(items: list[str]) -> dict[str, int]:",
    "    counts: dict[str, int] = {}",
    "    for item in items:",
    "        key = item.strip().lower()",
    "        counts[key] = counts.get(key, 0) + 1",
    "    return counts",
    "if __name__ == \"__main__\":",
    "    print(handle(sys.argv[1:]))",
)


def answer(kind: str, words: int, rng: random.Random) -> str:
    """An answer of about `words` words; code and edit answers are half code block."""
    def prose(n: int) -> str:
        start = rng.randrange(len(_PROSE))
        return " ".join(_PROSE[(start + i) % len(_PROSE)] for i in range(n)).capitalize() + "."

    if kind in ("code", "edit"):
        code, lines = [], 0
        while lines < words // 2:
            line = _CODE_LINES[len(code) % len(_CODE_LINES)]
            code.append(line)
            lines += len(line.split())
        return f"{prose(words // 4)}\n\n```python\n" + "\n".join(code) + f"\n```\n\n{prose(words // 4)}"
    return prose(words)


@dataclass(frozen=True, slots=True)
class Turn:
    kind: str
    prompt: str
    answer: str
    draw: float  # the outcome's uniform: good when below the answering backend's rate
    new_conversation: bool


def schedule(shares: Mapping[str, float], turns: int, seed: int) -> list[Turn]:
    rng = random.Random(seed)
    kinds, weights = list(shares), [shares[k] for k in shares]
    out: list[Turn] = []
    left = 0
    for _ in range(turns):
        kind = rng.choices(kinds, weights)[0]
        words = round(ANSWER_WORDS[kind] * rng.uniform(0.6, 1.4))
        new = left == 0
        left = rng.randint(*CONVERSATION_TURNS) if new else left
        left -= 1
        out.append(Turn(kind, rng.choice(PROMPTS[kind]), answer(kind, words, rng), rng.random(), new))
    return out


# -- the mixes and the oracle ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mix:
    name: str
    shares: Mapping[str, float]
    rates: Mapping[str, Mapping[str, float]]  # backend -> kind -> true good rate


MIX_A = Mix(
    "A",
    {"chat": 0.20, "explain": 0.35, "code": 0.20, "edit": 0.25},
    {
        "local": {"chat": 0.90, "explain": 0.95, "code": 0.30, "edit": 0.60},
        "claude": {kind: 0.95 for kind in KINDS},
    },
)


# A rate this close to the floor cannot be told from it in a run: to be 90% sure of
# a rate 0.02 above the floor takes ~1,000 rated answers of one kind on one backend.
# Mix B's local rates are drawn outside this band, so that the oracle, which knows
# them, is not judged against knowledge no measurement could give.
FLOOR_BAND = 0.05


def mix_b(seed: int, floor: float) -> Mix:
    rng = random.Random(seed)

    def away_from_floor() -> float:
        while abs((rate := round(rng.uniform(0.2, 0.99), 3)) - floor) < FLOOR_BAND:
            pass
        return rate

    local = {kind: away_from_floor() for kind in KINDS}
    claude = {kind: round(rng.uniform(0.85, 0.99), 3) for kind in KINDS}
    raw = [rng.random() for _ in KINDS]
    shares = {kind: 0.05 + 0.80 * r / sum(raw) for kind, r in zip(KINDS, raw)}
    return Mix("B", shares, {"local": local, "claude": claude})


def assignment(mix: Mix, floor: float) -> dict[str, str]:
    """Per kind, the cheapest backend whose true rate meets the floor, else the best one."""
    out = {}
    for kind in KINDS:
        meets = [b for b in BACKENDS if mix.rates[b][kind] >= floor]
        out[kind] = meets[0] if meets else max(BACKENDS, key=lambda b: mix.rates[b][kind])
    return out


@dataclass(frozen=True, slots=True)
class OracleRouter:
    """Each kind to its static assignment, knowing the true rates."""

    to: Mapping[str, str]
    name: ClassVar[str] = "oracle"

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision:
        backend = self.to.get(turn.kind, "claude")
        return RouteDecision(backend, f"oracle: {turn.kind} → {backend}", estimates=estimates(context),
                             fallbacks=(), allow_any_fallback=False, kind=turn.kind)  # fmt: skip


STRATEGIES = ("quality", "rules", "all-claude", "all-local", "oracle")


def make_router(strategy: str, mix: Mix, floor: float, seed: int) -> Router:
    if strategy == "quality":
        return RouterChain([QualityRouter(floor=floor, explore_share=0.1, rng=random.Random(seed))],
                           default=RulesRouter())  # fmt: skip
    if strategy == "rules":
        return RulesRouter()
    if strategy == "all-claude":
        return FixedRouter("claude")
    if strategy == "all-local":
        return FixedRouter("local")
    if strategy == "oracle":
        return OracleRouter(assignment(mix, floor))
    raise ValueError(strategy)


# -- one strategy, through the app -----------------------------------------------------


@dataclass
class Run:
    name: str
    backend: list[str]
    cost: list[float]
    good: list[bool]
    seconds: float
    explored: int


def run(name: str, mix: Mix, turns: Sequence[Turn], floor: float, seed: int, home: Path) -> Run:
    """One strategy over the turns: a fresh session on a fresh ledger file."""
    router = make_router(name, mix, floor, seed)
    config = Config()
    config = replace(config, general=replace(config.general, backend=AUTO))
    local = ScriptedBackend(name="local", local=True)
    claude = ScriptedBackend(name="claude", local=False, model_name=CLAUDE_MODEL, context_size=200_000)
    path = home / f"{mix.name}-{name}.sqlite3"
    session = ChatSession(config, backends={"local": local, "claude": claude}, router=router,
                          ledger=lambda: Ledger.open(path), installed=False, project_root=home)  # fmt: skip
    out = Run(name, [], [], [], 0.0, 0)
    started = time.perf_counter()
    for i, turn in enumerate(turns):
        if turn.new_conversation and i:
            session.clear()
        local.answers = claude.answers = [turn.answer]
        result = session.run_turn(turn.prompt, threading.Event())
        if result.outcome != "ok" or result.cost is None:
            raise SystemExit(f"{mix.name}/{name} turn {i + 1}: {result.outcome} {result.error} cost={result.cost}")
        if result.decision is not None and result.decision.kind != turn.kind:
            raise SystemExit(f"{mix.name}/{name} turn {i + 1}: routed as {result.decision.kind}, drawn as {turn.kind}")
        who = result.routed_to or result.backend
        good = turn.draw < mix.rates[who][turn.kind]
        session.rate("good" if good else "bad")
        out.backend.append(who)
        out.cost.append(result.cost)
        out.good.append(good)
        out.explored += bool(result.decision and result.decision.explored)
    out.seconds = time.perf_counter() - started
    session.close()
    return out


# -- figures -----------------------------------------------------------------------------


def realized(r: Run, turns: Sequence[Turn], since: int) -> dict[str, float | None]:
    out = {}
    for kind in KINDS:
        seen = [r.good[i] for i in range(since, len(turns)) if turns[i].kind == kind]
        out[kind] = sum(seen) / len(seen) if seen else None
    return out


def share_to(r: Run, turns: Sequence[Turn], since: int, backend: str) -> dict[str, float | None]:
    out = {}
    for kind in KINDS:
        seen = [r.backend[i] == backend for i in range(since, len(turns)) if turns[i].kind == kind]
        out[kind] = sum(seen) / len(seen) if seen else None
    return out


Target = tuple[str, float, str, bool]  # what, its value, its format, passed


def ratio_to(cost: float, reference: float) -> float:
    """cost / reference; against a free reference, 1 when it is free too, else infinite."""
    if reference:
        return cost / reference
    return 1.0 if cost == 0 else float("inf")


def fmt(value: float | None, spec: str = ".3f") -> str:
    return "  -  " if value is None else format(value, spec)


def start_mix(mix: Mix, args: argparse.Namespace, home: Path, pool: Executor) -> dict[str, Future[Run]]:
    """Every strategy on the mix, started in the pool."""
    turns = schedule(mix.shares, args.turns, args.seed)
    return {name: pool.submit(run, name, mix, turns, args.floor, args.seed, home) for name in STRATEGIES}


def report_mix(mix: Mix, args: argparse.Namespace, warmup: int, started: Mapping[str, Future[Run]]) -> list[Target]:
    """Prints the mix's table (waiting for its runs), and returns the quality router's targets."""
    floor = args.floor
    turns = schedule(mix.shares, args.turns, args.seed)
    oracle_to = assignment(mix, floor)
    counts = {kind: sum(t.kind == kind for t in turns) for kind in KINDS}
    print(f"\nmix {mix.name}: {args.turns} turns, seed {args.seed}, floor {floor:.2f}, warm-up {warmup} turns")
    print(f"  {'':18}" + "".join(f"{kind:>9}" for kind in KINDS))
    print(f"  {'share':18}" + "".join(f"{mix.shares[k]:>9.1%}" for k in KINDS))
    print(f"  {'turns drawn':18}" + "".join(f"{counts[k]:>9}" for k in KINDS))
    for backend in BACKENDS:
        print(f"  {'rate ' + backend:18}" + "".join(f"{mix.rates[backend][k]:>9.3f}" for k in KINDS))
    print(f"  {'oracle sends to':18}" + "".join(f"{oracle_to[k]:>9}" for k in KINDS))

    runs = {name: future.result() for name, future in started.items()}

    after = {name: sum(r.cost[warmup:]) for name, r in runs.items()}
    header = (f"  {'strategy':11}{'turns':>6}{'cost all':>10}{'cost >w':>10}{'÷oracle':>9}{'÷claude':>9}  "
              + "".join(f"{'q ' + k:>10}" for k in KINDS) + f"{'→claude':>9}{'expl':>6}{'ms/turn':>9}")
    print(f"\n  after the warm-up (turns {warmup + 1}-{args.turns}): cost, realized quality per kind (share good)")
    print(header)
    for name, r in runs.items():
        q = realized(r, turns, warmup)
        to_claude = sum(b == "claude" for b in r.backend[warmup:]) / max(1, len(turns) - warmup)
        ratio_o, ratio_c = ratio_to(after[name], after["oracle"]), ratio_to(after[name], after["all-claude"])
        print(f"  {name:11}{len(r.cost):>6}{sum(r.cost):>10.4f}{after[name]:>10.4f}{fmt(ratio_o, '.2f'):>9}"
              f"{fmt(ratio_c, '.2f'):>9}  " + "".join(f"{fmt(q[k]):>10}" for k in KINDS)
              + f"{to_claude:>9.1%}{r.explored:>6}{1000 * r.seconds / len(turns):>9.2f}")
    share = share_to(runs["quality"], turns, warmup, "claude")
    print(f"  quality router, share of each kind sent to claude after the warm-up: "
          + ", ".join(f"{k} {fmt(share[k], '.0%')}" for k in KINDS))

    targets: list[Target] = []
    q, oq = realized(runs["quality"], turns, warmup), realized(runs["oracle"], turns, warmup)
    for kind in KINDS:
        if q[kind] is None:
            continue
        reachable = any(mix.rates[b][kind] >= floor for b in BACKENDS)
        bound = floor - QUALITY_SLACK if reachable or oq[kind] is None else oq[kind] - QUALITY_SLACK
        what = f"floor {floor:.2f} - {QUALITY_SLACK}" if reachable else f"oracle's {fmt(oq[kind])} - {QUALITY_SLACK}"
        note = "" if oq[kind] is None or oq[kind] >= bound else f"; the oracle itself: {oq[kind]:.3f}"
        targets.append((f"mix {mix.name}: quality on {kind} >= {bound:.3f} ({what}{note})", q[kind], ".3f",
                        q[kind] >= bound))  # fmt: skip
    ratio = ratio_to(after["quality"], after["oracle"])
    targets.append((f"mix {mix.name}: cost / oracle's <= {ORACLE_COST_TARGET}", ratio, ".3f",
                    ratio <= ORACLE_COST_TARGET))  # fmt: skip
    if mix.name == "A":
        ratio = ratio_to(after["quality"], after["all-claude"])
        targets.append((f"mix {mix.name}: cost / all-Claude's <= {ALL_CLAUDE_COST_TARGET}", ratio, ".3f",
                        ratio <= ALL_CLAUDE_COST_TARGET))  # fmt: skip
    return targets


def check_bank() -> bool:
    ok = True
    for kind, prompts in PROMPTS.items():
        for prompt in prompts:
            if (got := classify(prompt)) != kind:
                print(f"prompt bank: {prompt!r} is classified {got}, not {kind}")
                ok = False
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300, help="turns the targets leave out")
    parser.add_argument("--seed", type=int, default=1, help="turns, outcomes and the router's exploration")
    parser.add_argument("--seed-b", type=int, default=None, help="mix B's shares and rates (default: drawn)")
    parser.add_argument("--floor", type=float, default=0.8)
    parser.add_argument("--quick", action="store_true", help="600 turns, warm-up 200: a smoke run")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="strategies run at once, in separate processes (default: 2)")  # fmt: skip
    args = parser.parse_args()
    warmup = args.warmup
    if args.quick:
        args.turns, warmup = 600, 200
    seed_b = args.seed_b if args.seed_b is not None else int.from_bytes(os.urandom(4), "big")
    with tempfile.TemporaryDirectory(prefix="bench-route-quality-") as tmp:
        home = Path(tmp)
        os.environ["ASSISTANT_HOME"] = str(home)  # nothing of the user's is read or written
        os.environ.pop("ANTHROPIC_API_KEY", None)
        started = time.perf_counter()
        bank_ok = check_bank()
        print(f"prompt bank: {sum(map(len, PROMPTS.values()))} prompts, "
              f"{'each classified as its kind' if bank_ok else 'SOME MISCLASSIFIED (above)'}")
        print(f"backends: local (scripted, free), claude (scripted, priced as {CLAUDE_MODEL}); "
              f"conversations of {CONVERSATION_TURNS[0]}-{CONVERSATION_TURNS[1]} turns; {args.jobs} job(s)")
        b = mix_b(seed_b, args.floor)
        with ProcessPoolExecutor(max(1, args.jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
            runs_a, runs_b = start_mix(MIX_A, args, home, pool), start_mix(b, args, home, pool)
            targets = report_mix(MIX_A, args, warmup, runs_a)
            print(f"\nmix B drawn from seed {seed_b} (rerun: --seed-b {seed_b})")
            targets += report_mix(b, args, warmup, runs_b)

    print("\ntargets (the quality router, after the warm-up)")
    for text, value, spec, passed in targets:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}: {format(value, spec)}")
    if not bank_ok:
        print("  FAIL  prompt bank: every prompt classified as its kind")
    print(f"\nwall time {time.perf_counter() - started:.1f} s")
    return 0 if bank_ok and all(passed for *_, passed in targets) else 1


if __name__ == "__main__":
    sys.exit(main())

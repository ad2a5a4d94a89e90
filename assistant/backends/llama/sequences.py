"""Several generations at once in one llama.cpp context: the local backend's scheduler.

llama.cpp decodes the next token of every running sequence in one `llama_decode`
(a batch whose tokens carry their sequence's id), which costs little more than
decoding one: a decode is bound by reading the weights, not by the tokens it
reads them for. `Scheduler` keeps the context's sequences (`Slot`s, each with
the tokens its KV cache holds) and runs requests (`Job`s) on them, a step at a
time on the engine thread: every generating job's last token and, within the
batch's size, the next chunk of waiting prompts go into one decode; each job
with logits in it is sampled by its own sampler and its token handed to its own
consumer. A long prompt is evaluated a chunk per step, between the others'
tokens; a job that ends frees its slot at once for the next; a cancelled job
leaves the next batch, the others go on.

Which slot a job gets: the free one whose cache it continues (the conversation it
extends: only its new tokens are evaluated, as with one sequence), else an empty
one, else the one least worth keeping: never continued, and of those the most
recently used. So the chat's conversation, continued turn after turn, keeps its
slot while a batch of one-off requests cycles through the others.

Jobs talk to their consumers through a queue: `Evaluated` once the prompt is in
the cache, then each token id, then `Ended` (or `Failed`). The consumer reads
each token's text itself, off the engine thread, and tells the job to stop
(`Job.stop`) when it has seen enough (a stop string).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from assistant.backends.llama.prompt_tokens import common_prefix
from assistant.core.events import Timings

if TYPE_CHECKING:
    from assistant.backends.llama.engine import Engine
    from assistant.backends.llama.engine_thread import EngineThread

log = logging.getLogger(__name__)

# Below this many tokens, evaluating them is as cheap as moving them in the cache.
SHIFT_MIN_TOKENS = 32
SHIFT_KEY_TOKENS = 8  # how many tokens locate the kept turns in the cache

EndReason = Literal["end_turn", "max_tokens", "cancelled", "stopped"]
NOTHING_TIMED = Timings(prompt_eval_seconds=0.0, prompt_eval_tokens=0, generation_seconds=0.0, generated_tokens=0)


@dataclass(frozen=True, slots=True)
class Evaluated:
    """The prompt is in the cache: `evaluated` of its tokens were computed, the rest reused."""

    evaluated: int


@dataclass(frozen=True, slots=True)
class Ended:
    reason: EndReason
    timings: Timings


@dataclass(frozen=True, slots=True)
class Failed:
    message: str


def slid_run(cached: Sequence[int], tokens: Sequence[int], prefix: int) -> tuple[int, int]:
    """When a sliding window dropped whole turns after the common `prefix`, where the
    rest of `tokens` (but its last) lies in `cached`: (start, length), or (-1, 0).

    The new prompt is then the cached one with a stretch cut out after the prefix
    (the system prompt and pinned items); the kept turns are still in the cache,
    only at later positions."""
    end = len(tokens) - 1  # the last prompt token is always evaluated (it gives the logits)
    if end - prefix < SHIFT_MIN_TOKENS or len(cached) - prefix < SHIFT_MIN_TOKENS:
        return -1, 0
    key = list(tokens[prefix : prefix + SHIFT_KEY_TOKENS])
    best_at, best_len = -1, 0
    for at in range(prefix + 1, len(cached) - len(key) + 1):
        if cached[at : at + len(key)] == key:
            n = common_prefix(cached[at:], tokens[prefix:end])
            if n > best_len:
                best_at, best_len = at, n
    return (best_at, best_len) if best_len >= SHIFT_MIN_TOKENS else (-1, 0)


@dataclass(eq=False)
class Slot:
    """One sequence of the context and the tokens its KV cache holds, in order."""

    sequence: int
    tokens: list[int] = field(default_factory=list)
    busy: bool = False
    used: int = 0  # when it was last freed (the scheduler's count of jobs ended)
    continued: int = 0  # how many jobs went on from what it held: a conversation


@dataclass(eq=False)
class Job:
    """One generation: what the consumer gives, and where it stands on the engine."""

    tokens: list[int]
    max_tokens: int
    sample: Callable[[int], int]  # a batch index -> the token sampled from the logits there
    cancel: threading.Event
    out: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    stop: threading.Event = field(default_factory=threading.Event)  # the consumer has seen enough
    slot: Slot | None = None
    fed: int = 0  # prompt tokens in the cache so far
    reused: int = 0  # of those, the ones its slot held already
    chunk_end: int = 0  # where the prompt's chunk in this step's batch ends
    generated: int = 0
    last: int = -1  # the last token sampled, not yet in the cache (-1: still in its prompt)
    index: int = -1  # where its logits are in this step's batch (-1: none)
    chunk_at: int = 0  # the first position it added to this step's batch
    prompt_seconds: float = 0.0
    generation_seconds: float = 0.0
    generation_steps: int = 0

    @property
    def halted(self) -> bool:
        return self.cancel.is_set() or self.stop.is_set()


class Scheduler:
    """The slots of one engine and the jobs on them; its steps run on the engine thread."""

    def __init__(self, engine: Engine, thread: EngineThread, chunk: int | None = None) -> None:
        self._engine = engine
        self._thread = thread
        self.slots = [Slot(i) for i in range(engine.sequences)]
        self._chunk = chunk or engine.batch.capacity  # most prompt tokens one step evaluates
        self._lock = threading.Lock()
        self._waiting: deque[Job] = deque()
        self._active: list[Job] = []
        self._running = False
        self._ended = 0
        self.last_slot: Slot | None = None  # the slot the latest job ran on

    # -- from any thread ---------------------------------------------------------------

    def submit(self, job: Job) -> Job:
        """Queue `job`; it starts as soon as a slot is free. Read its `out`."""
        with self._lock:
            self._waiting.append(job)
            if not self._running:
                self._running = True
                self._thread.post(self._run)
        return job

    def forget(self) -> None:
        """Drop every idle slot's cache (benchmarks: each run from a cold cache)."""

        def drop() -> None:
            with self._lock:
                idle = [s for s in self.slots if not s.busy]
            for slot in idle:
                self._engine.forget(slot.sequence)
                slot.tokens, slot.continued = [], 0

        self._thread.call(drop)

    def halt(self) -> None:
        """Stop every job, running or waiting, and return once the engine is idle."""
        with self._lock:
            for job in self._active + list(self._waiting):
                job.stop.set()
        self._thread.call(lambda: None)  # runs once the steps in flight have ended them

    # -- on the engine thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    self._admit()
                    if not self._active:
                        self._running = False
                        return
                self._step()
        except BaseException as exc:  # noqa: BLE001 - every job is told, none hangs
            log.exception("the local model's scheduler failed")
            with self._lock:
                jobs = self._active + list(self._waiting)
                self._active, self._running = [], False
                self._waiting.clear()
            for job in jobs:
                self._fail(job, f"{type(exc).__name__}: {exc}")

    def _admit(self) -> None:
        """Give waiting jobs free slots, in the order they came (under the lock)."""
        while self._waiting:
            job = self._waiting[0]
            if job.halted:  # cancelled (or dropped) while it waited: nothing evaluated
                self._waiting.popleft()
                job.out.put(Evaluated(0))
                job.out.put(Ended("cancelled", NOTHING_TIMED))
                continue
            chosen = self._choose(job.tokens)
            if chosen is None:
                return
            slot, continues = chosen
            self._waiting.popleft()
            slot.busy, job.slot = True, slot
            self._reuse(job, slot, continues)
            self._active.append(job)
            self.last_slot = slot

    def _choose(self, tokens: list[int]) -> tuple[Slot, bool] | None:
        """A free slot for a prompt of `tokens`, and whether the prompt continues what it holds."""
        free = [s for s in self.slots if not s.busy]
        if not free:
            return None
        shared = {s.sequence: common_prefix(s.tokens, tokens) for s in free}
        continuing = [s for s in free if s.tokens and shared[s.sequence] * 2 >= len(s.tokens)]
        if not continuing:  # a conversation whose window slid: its kept turns are further on
            continuing = [s for s in free if slid_run(s.tokens, tokens, shared[s.sequence])[1]]
        if continuing:
            return max(continuing, key=lambda s: shared[s.sequence]), True
        empty = [s for s in free if not s.tokens]
        if empty:
            return empty[0], False
        return min(free, key=lambda s: (s.continued, -s.used)), False

    def _reuse(self, job: Job, slot: Slot, continues: bool) -> None:
        """Keep what `slot` holds of `job`'s prompt (`continues`: it goes on from there);
        the rest is evaluated."""
        engine, tokens, cached = self._engine, job.tokens, slot.tokens
        reused = min(common_prefix(cached, tokens), len(tokens) - 1)
        at, length = slid_run(cached, tokens, reused)
        if length and engine.move_cached(slot.sequence, at, at + length, reused):
            log.debug("window slid: %d cached tokens moved down by %d instead of evaluated", length, at - reused)
            slot.tokens = cached[:reused] + cached[at : at + length]
            reused += length
        if reused and engine.keep_cached(slot.sequence, reused):
            del slot.tokens[reused:]
            slot.continued = slot.continued + 1 if continues else 0
        else:  # nothing shared, or a recurrent model's cache, which cannot be cut
            engine.forget(slot.sequence)
            slot.tokens, slot.continued, reused = [], 0, 0
        job.fed = job.reused = reused

    def _step(self) -> None:
        """One decode: every generating job's last token, then prompt chunks."""
        engine, batch = self._engine, self._engine.batch
        batch.clear()
        stepped: list[Job] = []
        prompting = crowded = False
        for job in list(self._active):
            if job.halted:
                self._end(job, "cancelled" if job.cancel.is_set() else "stopped")
                continue
            slot = job.slot
            assert slot is not None
            job.chunk_at = len(slot.tokens)
            if job.last < 0:
                continue
            if batch.size == batch.capacity:  # a batch smaller than the sequences: the next step
                crowded = True
                continue
            job.index = batch.add(job.last, job.chunk_at, slot.sequence, True)
            stepped.append(job)
        room = min(batch.capacity - batch.size, self._chunk)
        for job in self._active:
            if job.last >= 0 or job.halted or room <= 0:
                continue
            slot = job.slot
            assert slot is not None
            end = min(job.fed + room, len(job.tokens))
            last = len(job.tokens) - 1
            for i in range(job.fed, end):
                job.index = batch.add(job.tokens[i], i, slot.sequence, i == last)
            job.chunk_end = end
            room -= end - job.fed
            prompting = True
            stepped.append(job)
        if not stepped:
            return
        if crowded:  # who goes first takes turns, when the batch is too small for all
            self._active.append(self._active.pop(0))
        # A prompt's chunk may take seconds: a cancel stops it inside its decode, when
        # every job in it is cancelled (the others' tokens are never given up).
        started = time.perf_counter()
        result = engine.decode((lambda: all(j.halted for j in stepped)) if prompting else None)
        seconds = time.perf_counter() - started
        if result != 0:
            self._decode_failed(result, stepped)
            return
        for job in stepped:
            self._advance(job, seconds)

    def _advance(self, job: Job, seconds: float) -> None:
        slot = job.slot
        assert slot is not None
        if job.last >= 0:  # its last token is in the cache now
            slot.tokens.append(job.last)
            job.generation_seconds += seconds
            job.generation_steps += 1
        else:
            slot.tokens.extend(job.tokens[job.fed : job.chunk_end])
            job.fed = job.chunk_end
            job.prompt_seconds += seconds
            if job.fed < len(job.tokens):
                return
            job.out.put(Evaluated(job.fed - job.reused))
        token = job.sample(job.index)
        if self._engine.is_end_of_generation(token):
            self._end(job, "end_turn")
            return
        job.generated += 1
        job.out.put(token)
        if job.generated >= job.max_tokens:
            self._end(job, "max_tokens")
        else:
            job.last = token

    def _decode_failed(self, result: int, stepped: list[Job]) -> None:
        """Aborted (every job in the batch cancelled) or failed: what the batch added is
        dropped from each job's cache; an abort ends its jobs as cancelled, a failure fails them."""
        for job in stepped:
            slot = job.slot
            assert slot is not None
            if not self._engine.keep_cached(slot.sequence, job.chunk_at):
                self._engine.forget(slot.sequence)
                slot.tokens = []
            del slot.tokens[job.chunk_at :]
            if result == 2:
                self._end(job, "cancelled")
            else:
                what = "no room in the KV cache" if result == 1 else f"llama_decode returned {result}"
                self._fail(job, f"llama.cpp failed while generating: {what}")

    def _end(self, job: Job, reason: EndReason) -> None:
        timings = Timings(
            prompt_eval_seconds=job.prompt_seconds,
            prompt_eval_tokens=job.fed - job.reused,
            generation_seconds=job.generation_seconds,
            generated_tokens=job.generation_steps,
        )
        self._release(job)
        job.out.put(Ended(reason, timings))

    def _fail(self, job: Job, message: str) -> None:
        self._release(job)
        job.out.put(Failed(message))

    def _release(self, job: Job) -> None:
        with self._lock:
            if job in self._active:
                self._active.remove(job)
            self._ended += 1
            if job.slot is not None:
                job.slot.busy, job.slot.used = False, self._ended

"""The scheduler of several sequences in one context (backends/llama/sequences.py),
against an engine that checks what llama.cpp checks and answers like a model.

`Recorder` keeps each sequence's cache the way llama.cpp does (a token per
position, consecutive, per sequence), refuses a batch that skips or repeats a
position, and "samples" a token that depends on the whole sequence up to the
logits asked for (a hash): a scheduler that mixes sequences up, reuses a cache it
should not, or feeds a token twice answers differently than the same request run
alone. Generated requests (shared prefixes, lengths, chunk sizes, fewer slots
than requests, cancels) must each get exactly what they get alone."""

from __future__ import annotations

import hashlib
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.backends.llama.engine_thread import EngineThread
from assistant.backends.llama.sequences import Ended, Evaluated, Failed, Job, Scheduler

VOCAB = 50
EOG = 0


def next_token(history: list[int]) -> int:
    """The "model": a token from everything before it (EOG now and then)."""
    digest = hashlib.blake2b(bytes(t % 256 for t in history[-64:]) + len(history).to_bytes(4, "little"), digest_size=2)
    return int.from_bytes(digest.digest(), "little") % VOCAB


class Batch:
    def __init__(self, capacity: int) -> None:
        self.capacity, self.size, self.rows = capacity, 0, []

    def clear(self) -> None:
        self.size, self.rows = 0, []

    def add(self, token: int, position: int, sequence: int, logits: bool) -> int:
        assert self.size < self.capacity, "batch over its capacity"
        self.rows.append((token, position, sequence, logits))
        self.size += 1
        return self.size - 1


class Recorder:
    """An engine with llama.cpp's rules and a deterministic model."""

    can_shift = True

    def __init__(self, sequences: int, capacity: int) -> None:
        self.sequences = sequences
        self.batch = Batch(capacity)
        self.cache: dict[int, list[int]] = {s: [] for s in range(sequences)}
        self.logits: dict[int, list[int]] = {}
        self.decodes = 0
        self.evaluated = 0

    def is_end_of_generation(self, token: int) -> bool:
        return token == EOG

    def keep_cached(self, sequence: int, n: int) -> bool:
        del self.cache[sequence][n:]
        return True

    def forget(self, sequence: int) -> None:
        self.cache[sequence] = []

    def move_cached(self, sequence: int, start: int, end: int, to: int) -> bool:
        cells = self.cache[sequence]
        self.cache[sequence] = cells[:to] + cells[start:end]
        return True

    def decode(self, should_abort=None) -> int:  # noqa: ANN001
        self.decodes += 1
        self.logits = {}
        for i, (token, position, sequence, logits) in enumerate(self.batch.rows):
            cells = self.cache[sequence]
            assert position == len(cells), f"sequence {sequence}: position {position} after {len(cells)} cells"
            cells.append(token)
            self.evaluated += 1
            if logits:
                self.logits[i] = list(cells)
        return 0

    def sampler(self) -> callable:
        return lambda index: next_token(self.logits[index])


def alone(prompt: list[int], max_tokens: int) -> list[int]:
    history, out = list(prompt), []
    while len(out) < max_tokens:
        token = next_token(history)
        if token == EOG:
            break
        out.append(token)
        history.append(token)
    return out


def drain(job: Job, cancel_after: int | None) -> tuple[list[int], Ended | Failed, int | None]:
    tokens, evaluated = [], None
    while True:
        item = job.out.get()
        if type(item) is int:
            if not job.cancel.is_set():
                tokens.append(item)
                if cancel_after is not None and len(tokens) >= cancel_after:
                    job.cancel.set()
        elif isinstance(item, Evaluated):
            evaluated = item.evaluated
        else:
            return tokens, item, evaluated


prompts = st.lists(st.integers(1, VOCAB - 1), min_size=1, max_size=40)
requests = st.lists(
    st.tuples(st.integers(0, 3), prompts, st.integers(1, 30), st.none() | st.integers(1, 10)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=requests, sequences=st.integers(1, 4), capacity=st.integers(1, 48), chunk=st.integers(1, 48))
def test_every_request_gets_what_it_gets_alone(requests, sequences: int, capacity: int, chunk: int) -> None:
    """Whatever the mix: shared prefixes (a common start chosen from four), fewer slots
    than requests, a batch smaller than a prompt, cancels after a few tokens."""
    starts = [[7, 8, 9, 10, 11, 12], [7, 8, 9], [20, 21], []]
    engine = Recorder(sequences, capacity)
    thread = EngineThread("test-engine")
    scheduler = Scheduler(engine, thread, chunk=chunk)  # type: ignore[arg-type]
    try:
        jobs = []
        for start, tail, max_tokens, cancel_after in requests:
            prompt = starts[start] + tail
            job = Job(prompt, max_tokens, engine.sampler(), threading.Event())
            jobs.append((job, prompt, max_tokens, cancel_after))
            scheduler.submit(job)
        for job, prompt, max_tokens, cancel_after in jobs:
            tokens, end, evaluated = drain(job, cancel_after)
            expected = alone(prompt, max_tokens)
            assert isinstance(end, Ended), end
            if cancel_after is None:
                assert tokens == expected
                assert end.reason == ("max_tokens" if len(expected) == max_tokens else "end_turn")
                assert evaluated is not None and 1 <= evaluated <= len(prompt)
                assert end.timings.prompt_eval_tokens == evaluated
            else:
                assert tokens == expected[: len(tokens)] and len(tokens) <= cancel_after
        thread.call(lambda: None)
        # What the scheduler believes each sequence holds is what the engine holds.
        for slot in scheduler.slots:
            assert slot.tokens == engine.cache[slot.sequence]
            assert not slot.busy
    finally:
        thread.close()


def run(scheduler: Scheduler, engine: Recorder, prompt: list[int], max_tokens: int = 5) -> tuple[list[int], int]:
    job = scheduler.submit(Job(prompt, max_tokens, engine.sampler(), threading.Event()))
    tokens, end, evaluated = drain(job, None)
    assert isinstance(end, Ended)
    return tokens, evaluated or 0


def test_a_conversation_keeps_its_sequence_while_one_off_requests_cycle_through_the_others() -> None:
    engine = Recorder(sequences=3, capacity=64)
    thread = EngineThread("test-engine")
    scheduler = Scheduler(engine, thread)  # type: ignore[arg-type]
    try:
        chat = [1, 2, 3, 4, 5, 6]
        answer, evaluated = run(scheduler, engine, chat)
        assert evaluated == len(chat)
        chat += answer + [30, 31]
        answer, evaluated = run(scheduler, engine, chat)
        assert evaluated <= 3  # the new turn only (and the answer's last token, never fed)
        chat_slot = scheduler.last_slot
        for i in range(12):  # a batch: each one-off, sharing the chat's first tokens
            run(scheduler, engine, [1, 2, 40 + i, 41, 42])
        assert scheduler.last_slot is not chat_slot
        chat += answer + [32, 33, 34]
        _, evaluated = run(scheduler, engine, chat)
        assert evaluated <= 4 and scheduler.last_slot is chat_slot
    finally:
        thread.close()


def test_a_window_that_slid_moves_the_kept_turns_down_instead_of_evaluating_them() -> None:
    engine = Recorder(sequences=2, capacity=512)
    thread = EngineThread("test-engine")
    scheduler = Scheduler(engine, thread)  # type: ignore[arg-type]
    try:
        system, old, kept = [1] * 10, list(range(100, 150)), list(range(200, 260))
        first = system + old + kept
        answer, _ = run(scheduler, engine, first)
        slid = system + kept + answer + [9, 9]  # the window dropped `old`
        _, evaluated = run(scheduler, engine, slid)
        assert evaluated <= 3
        assert engine.cache[scheduler.last_slot.sequence][: len(slid)] == slid
    finally:
        thread.close()

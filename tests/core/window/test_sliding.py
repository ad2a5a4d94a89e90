"""The sliding context window: what is always sent, what is dropped, and that
the prompt's prefix stays put between slides so backends reuse their caches."""

from __future__ import annotations

import pickle
import random
from collections.abc import Sequence
from dataclasses import replace

import pytest

from assistant.core.backends.budget import ContextBudget
from assistant.core.backends.protocol import TokenCount
from assistant.core.conversation import Message
from assistant.core.window.sliding import (
    Assembly,
    ContextTooLarge,
    Exchange,
    SlidingWindow,
    WindowCounter,
)


def words(message: Message) -> int:
    return len(message.content.split()) + 4


class WordCounter:
    """Tokens = words + 4 per message; the whole prompt costs `extra` more.

    `cheap=False` stands for a network count that is only an estimate.
    """

    def __init__(self, *, cheap: bool = True, extra: int = 3) -> None:
        self.exact_is_cheap = cheap
        self.extra = extra
        self.message_calls = 0
        self.prompt_calls = 0

    def message_tokens(self, message: Message) -> int:
        self.message_calls += 1
        return words(message)

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        self.prompt_calls += 1
        return TokenCount(self.true_total(messages), estimated=not self.exact_is_cheap)

    def true_total(self, messages: Sequence[Message]) -> int:
        return sum(map(words, messages)) + self.extra


def text(n: int, tag: str = "w") -> str:
    return " ".join(f"{tag}{i}" for i in range(n))


def user(n: int, tag: str = "q") -> Message:
    return Message("user", text(n, tag))


def answer(n: int, tag: str = "a") -> Message:
    return Message("assistant", text(n, tag))


def history(sizes: Sequence[int]) -> list[Exchange]:
    return [Exchange(user(n, f"q{i}_"), answer(n, f"a{i}_")) for i, n in enumerate(sizes)]


def flat(exchanges: Sequence[Exchange]) -> list[Message]:
    out: list[Message] = []
    for e in exchanges:
        out.append(e.user)
        if e.answer is not None:
            out.append(e.answer)
    return out


def test_the_counter_fake_satisfies_the_protocol() -> None:
    assert isinstance(WordCounter(), WindowCounter)


def test_everything_fits_nothing_is_dropped() -> None:
    counter = WordCounter()
    window = SlidingWindow(counter, 1_000)
    system, pin = Message("system", "be brief"), Message("user", "notes.md\nsome notes")
    exchanges = history([3, 5])
    current = user(2, "now")
    a = window.assemble(system, [pin], exchanges, current)
    assert a.messages == (system, pin, *flat(exchanges), current)
    assert (a.first_kept, a.dropped, a.slid) == (0, 0, False)
    assert a.tokens == counter.true_total(a.messages) and not a.estimated
    assert a.fill == a.tokens / 1_000
    assert [(i.label, i.kind) for i in a.items] == [
        ("system prompt", "system"),
        ("pinned: notes.md", "pinned"),
        ("turn 1 (question)", "history"),
        ("turn 1 (answer)", "history"),
        ("turn 2 (question)", "history"),
        ("turn 2 (answer)", "history"),
        ("this turn", "current"),
    ]
    assert [i.tokens for i in a.items] == [words(m) for m in a.messages]


def test_a_failed_turn_has_no_answer_item_and_no_system_prompt_is_fine() -> None:
    window = SlidingWindow(WordCounter(), 1_000)
    exchanges = [Exchange(user(3, "lost"))]
    a = window.assemble(None, [], exchanges, user(1))
    assert a.messages == (exchanges[0].user, user(1))
    assert [i.label for i in a.items] == ["turn 1 (question)", "this turn"]


def test_a_slide_drops_whole_oldest_turns_down_to_the_chunk_target() -> None:
    # Each exchange costs 2 * (6 + 4) = 20; current 8; prompt +3.
    counter = WordCounter()
    window = SlidingWindow(counter, 100, name="local")
    exchanges = history([6] * 5)  # 100 tokens of history: does not fit
    a = window.assemble(None, [], exchanges, user(4))
    assert a.slid and a.first_kept == 2 == window.start  # 8 + 60 <= 75
    assert a.messages == (*flat(exchanges[2:]), user(4))
    assert a.tokens == 8 + 60 + 3 <= 100


def test_the_window_does_not_slide_again_until_the_room_is_used() -> None:
    window = SlidingWindow(WordCounter(), 100)
    exchanges = history([6] * 5)
    first = window.assemble(None, [], exchanges, user(4, "c0_"))
    assert first.slid
    exchanges.append(Exchange(user(4, "c0_"), answer(1)))  # +13 tokens: 84
    second = window.assemble(None, [], exchanges, user(4, "c1_"))
    assert not second.slid and second.first_kept == first.first_kept
    assert second.messages[: len(first.messages)] == first.messages


def test_too_large_is_one_line_with_the_figures() -> None:
    window = SlidingWindow(WordCounter(), 8_000, name="claude")
    with pytest.raises(ContextTooLarge) as info:
        window.assemble(Message("system", text(9_000)), [], history([5]), user(3))
    error = info.value
    assert (error.needed, error.budget) == (9_000 + 4 + 3 + 4, 8_000)
    message = str(error)
    assert "\n" not in message
    assert "9,011 tokens" in message and "8,000-token window of claude" in message
    assert "/drop" not in message  # nothing is pinned: unpinning is no advice
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == message and again.needed == error.needed


def test_too_large_offers_drop_only_with_something_pinned() -> None:
    window = SlidingWindow(WordCounter(), 100, name="local")
    with pytest.raises(ContextTooLarge) as info:
        window.assemble(None, [Message("system", text(90))], [], user(20))
    assert str(info.value) == (
        "this turn needs 118 tokens (the message 24, pinned items 94), more than the 100-token window of local; "
        "unpin files (/drop) or shorten the message"
    )


LOCAL = ContextBudget("local", 4096, 1024, None, "n_ctx, [backends.local] n_ctx", "[backends.local]")


def test_too_large_names_the_context_and_the_settings_that_set_it() -> None:
    window = SlidingWindow(WordCounter(), LOCAL, name="local")
    assert window.budget == 3072
    with pytest.raises(ContextTooLarge) as info:
        window.assemble(Message("system", text(6)), [], [], user(3_100))
    message = str(info.value)
    assert message == (
        "this turn needs 3,114 tokens (the message 3,104); local takes 3,072 tokens, its context of 4,096 "
        "(n_ctx, [backends.local] n_ctx) less 1,024 kept for the answer ([backends.local] max_tokens); "
        "shorten the message"
    )
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == message and again.limit == LOCAL


def test_too_large_under_a_cap_names_the_cap() -> None:
    window = SlidingWindow(WordCounter(), replace(LOCAL, cap=500), name="local")
    with pytest.raises(ContextTooLarge) as info:
        window.assemble(None, [], [], user(600))
    assert str(info.value) == (
        "this turn needs 604 tokens (the message 604); the 500-token window of local is capped by "
        "[backends.local] window_tokens (0: its context of 4,096 less the answer's 1,024); "
        "raise that cap or shorten the message"
    )


def test_a_cap_above_the_room_is_no_limit() -> None:
    assert replace(LOCAL, cap=10_000).tokens == 3072 and not replace(LOCAL, cap=10_000).capped
    assert replace(LOCAL, cap=2_000).tokens == 2000
    assert replace(LOCAL, reserve=4096).tokens == 1  # nothing left: every turn refused, saying why


def test_too_large_on_the_exact_count_with_all_history_dropped() -> None:
    # The fixed part sums to exactly the budget; the exact count adds 3.
    counter = WordCounter()
    window = SlidingWindow(counter, 20)
    with pytest.raises(ContextTooLarge) as info:
        window.assemble(None, [], history([2, 2]), user(16))
    assert info.value.needed == 23
    assert window.start == 0  # a failed assembly changes nothing


def test_an_inexact_sum_over_budget_on_the_exact_count_drops_one_more_exchange() -> None:
    # Sums: current 5 + a 40-token exchange + 5 of 10 = 95: fits, but near the
    # budget, so the expensive exact count is asked: 95 + 18 = 113 > 100.
    counter = WordCounter(cheap=False, extra=18)
    window = SlidingWindow(counter, 100)
    exchanges = history([16] + [1] * 5)
    a = window.assemble(None, [], exchanges, user(1))
    assert a.slid and a.first_kept == 1 == window.start
    assert a.messages == (*flat(exchanges[1:]), user(1))
    assert a.tokens == counter.true_total(a.messages) == 73 and a.estimated
    assert counter.prompt_calls == 2  # the overshoot, then the confirmation


def test_an_exact_overshoot_slides_by_a_chunk_not_one_turn_per_turn() -> None:
    """With a systematic gap between sum and exact count, dropping one turn
    would leave the prompt at the edge and drop one more every turn (a cache
    miss each time); the measured gap is carried into the chunk target."""
    counter = WordCounter(cheap=False, extra=18)
    window = SlidingWindow(counter, 200)
    exchanges = history([1] * 18)  # 10 each + current 5: 185 on the sum, 203 exact
    a = window.assemble(None, [], exchanges, user(1))
    # Down to the chunk target on the exact count (150), not just under 200.
    assert a.slid and a.first_kept == 6 and a.tokens == 5 + 120 + 18 == 143
    assert counter.prompt_calls == 2
    slides = 0
    for turn in range(4):
        exchanges.append(Exchange(user(1, f"c{turn}_"), answer(1, f"r{turn}_")))
        slides += window.assemble(None, [], exchanges, user(1, f"c{turn + 1}_")).slid
    assert slides == 0


def test_a_roomy_budget_with_an_expensive_count_never_asks_for_it() -> None:
    counter = WordCounter(cheap=False)
    window = SlidingWindow(counter, 100_000)
    exchanges: list[Exchange] = []
    for turn in range(50):
        current = user(20, f"c{turn}_")
        a = window.assemble(Message("system", "sys"), [], exchanges, current)
        assert a.estimated and a.tokens == sum(map(words, a.messages))
        exchanges.append(Exchange(current, answer(30, f"r{turn}_")))
    assert counter.prompt_calls == 0


@pytest.mark.parametrize("budget", [1_000_000, 2_000])
def test_a_long_session_counts_each_message_once(budget: int) -> None:
    counter = WordCounter()
    window = SlidingWindow(counter, budget)
    system = Message("system", text(30))
    pinned = [Message("user", text(40, "pin"))]
    exchanges: list[Exchange] = []
    for turn in range(500):
        before = counter.prompt_calls
        current = user(10, f"c{turn}_")
        a = window.assemble(system, pinned, exchanges, current)
        assert counter.prompt_calls - before <= 2
        assert a.tokens <= budget
        # Each turn brings two new messages: this question and the last answer.
        assert counter.message_calls <= 2 + 2 * (turn + 1)
        exchanges.append(Exchange(current, answer(20, f"r{turn}_")))


def test_reset_and_a_shorter_history_move_the_start_back() -> None:
    window = SlidingWindow(WordCounter(), 100)
    exchanges = history([6] * 8)
    assert window.assemble(None, [], exchanges, user(1)).first_kept > 0
    window.reset()
    assert window.start == 0
    window.assemble(None, [], exchanges, user(1))
    assert window.start > 0
    compacted = [Exchange(user(2, "summary"), answer(2))]
    a = window.assemble(None, [], compacted, user(1))
    assert a.first_kept == 0 == window.start and not a.slid
    assert a.messages == (*flat(compacted), user(1))
    with pytest.raises(ValueError):
        window.reset(-1)


def test_a_smaller_budget_slides_at_the_next_turn() -> None:
    window = SlidingWindow(WordCounter(), 1_000)
    exchanges = history([6] * 8)
    assert window.assemble(None, [], exchanges, user(1)).first_kept == 0
    window.set_budget(100)
    a = window.assemble(None, [], exchanges, user(1))
    assert a.slid and a.tokens <= 100 and a.budget == 100
    with pytest.raises(ValueError):
        window.set_budget(0)


def random_session(seed: int) -> None:
    rng = random.Random(seed)
    budget = rng.randint(50, 2_000)
    fraction = rng.choice([0.25, 0.25, 0.1, 0.5])
    counter = WordCounter(cheap=rng.random() < 0.5)
    window = SlidingWindow(counter, budget, slide_fraction=fraction)
    scale = budget / rng.choice([4, 10, 25])

    def message(role: str, tag: str) -> Message:
        size = min(int(rng.expovariate(1 / scale)), 3 * budget)
        return Message(role, " ".join(f"{tag}{i}" for i in range(size)))  # type: ignore[arg-type]

    system = message("system", "s") if rng.random() < 0.8 else None
    pinned = [message(rng.choice(["user", "system"]), f"p{i}_") for i in range(rng.randint(0, 3))]
    head = ([system] if system else []) + pinned
    exchanges: list[Exchange] = []
    previous: Assembly | None = None
    last_start = 0
    slides = short = 0
    history_tokens = 0
    for turn in range(rng.randint(0, 60) + 1):
        current = message("user", f"c{turn}_")
        prompt_calls = counter.prompt_calls
        too_large = counter.true_total([*head, current]) > budget
        try:
            a = window.assemble(system, pinned, exchanges, current)
        except ContextTooLarge as error:
            assert too_large, (seed, turn)
            assert error.needed > error.budget == budget
            assert window.start == last_start
            continue
        assert not too_large, (seed, turn)
        assert counter.prompt_calls - prompt_calls <= 2
        # Fits, on the counter's own count (asked or not).
        assert a.tokens <= budget and counter.true_total(a.messages) <= budget
        # System, pinned, a contiguous suffix of whole exchanges, current: in order.
        assert a.messages == (*head, *flat(exchanges[a.first_kept :]), current)
        assert a.first_kept == a.dropped == window.start
        assert [i.kind for i in a.items].count("current") == 1
        # The start only moves forward, and a slide is what moves it.
        assert a.first_kept >= last_start
        assert a.slid == (a.first_kept > last_start)
        if a.slid:
            slides += 1
            fixed = counter.true_total([*head, current])
            if a.first_kept == len(exchanges) and fixed > (1 - fraction) * budget:
                short += 1  # history ran out before the chunk target was reached
        elif previous is not None:
            assert a.messages[: len(previous.messages)] == previous.messages
        last_start = a.first_kept
        previous = a
        reply = None if rng.random() < 0.15 else message("assistant", f"r{turn}_")
        exchanges.append(Exchange(current, reply))
        history_tokens += words(current) + (words(reply) if reply else 0)
    # Each slide that could reach the chunk target freed a chunk of the budget.
    assert slides - short <= 1 + history_tokens / (fraction * budget), seed


def test_random_sessions_keep_every_rule() -> None:
    for seed in range(400):
        random_session(seed)

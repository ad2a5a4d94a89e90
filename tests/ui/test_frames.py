"""Frame pacing of a streaming answer (assistant/ui/frames.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from assistant.ui.frames import MIN_HZ, FramePacer


def test_cheap_frames_and_a_remote_model_go_at_the_most_frames_a_second() -> None:
    assert FramePacer(10, 0.03, shares_cpu=True).delay(0.0005) == 0.1
    assert FramePacer(10, 0.03, shares_cpu=False).delay(0.5) == 0.1
    assert FramePacer(10, 0.0, shares_cpu=True).delay(0.5) == 0.1  # 0: no pacing


def test_costly_frames_on_a_local_model_take_their_share_of_a_core_and_no_more() -> None:
    pacer = FramePacer(10, 0.03, shares_cpu=True)
    delays = [pacer.delay(0.0045) for _ in range(10)]
    assert abs(delays[-1] - 0.15) < 1e-9  # 4.5 ms of CPU a frame at 3%: one frame each 150 ms


def test_one_slow_frame_does_not_halve_the_rate() -> None:
    pacer = FramePacer(10, 0.03, shares_cpu=True)
    for _ in range(10):
        pacer.delay(0.0045)
    assert pacer.delay(0.030) < 0.6  # a layout, a key press: smoothed


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50), st.floats(1, 120), st.floats(0, 1))
def test_the_delay_stays_between_the_most_and_the_fewest_frames_a_second(spent, max_hz, share) -> None:
    pacer = FramePacer(max_hz, share, shares_cpu=True)
    for cost in spent:
        delay = pacer.delay(cost)
        assert 1 / max_hz - 1e-12 <= delay <= 1 / min(MIN_HZ, max_hz) + 1e-12

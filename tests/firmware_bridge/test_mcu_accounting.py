"""Pure host-side bookkeeping: command echo accounting and the clock offset estimator."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from firmware_bridge.mcu.clock_sync import WRAP_US, ClockSync
from firmware_bridge.mcu.link_stats import CommandTracker


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=300))
def test_mcu_every_command_ends_acked_or_lost(delivered: list[bool]) -> None:
    tracker = CommandTracker(expiry_ns=10**12)
    for seq, ok in enumerate(delivered):
        tracker.on_sent(seq % 65536, seq * 1000)
        if ok:
            assert tracker.on_echo(seq % 65536, seq * 1000 + 250, ok=True) == 250
    tracker.on_sent(len(delivered) % 65536, 10**9)
    tracker.on_echo(len(delivered) % 65536, 10**9 + 1, ok=True)  # the last echo settles all
    assert tracker.acked == sum(delivered) + 1
    assert tracker.lost == len(delivered) - sum(delivered)


def test_mcu_tracker_expires_unanswered_commands_and_counts_rejections() -> None:
    tracker = CommandTracker(expiry_ns=100)
    tracker.on_sent(1, 0)
    tracker.on_sent(2, 500)  # command 1 has waited longer than the expiry
    assert tracker.lost == 1
    tracker.on_echo(2, 600, ok=False)
    assert (tracker.acked, tracker.rejected) == (1, 1)
    assert tracker.on_echo(1, 700, ok=True) is None  # too late: already counted lost


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, WRAP_US - 1),
    st.integers(-(10**12), 10**12),
    st.lists(st.tuples(st.integers(1, 50_000), st.integers(0, 20_000)), min_size=1, max_size=50),
)
@example(start_us=WRAP_US - 50_000, true_offset=0, trips=[(50_000, 0)])  # first stamp wraps
def test_mcu_clock_offset_error_is_within_half_the_best_round_trip(start_us, true_offset, trips):
    """Exact MCU stamps taken anywhere inside each round trip, across 32-bit wraps."""
    sync = ClockSync()
    mcu_us = start_us
    base_us = None
    for step_us, rtt_us in trips:
        mcu_us += step_us
        if base_us is None:  # the unwrapped count starts in the wrap of the first stamp seen
            base_us = mcu_us // WRAP_US * WRAP_US
        # The stamp sits 40% into the trip.
        sent_ns = (mcu_us - base_us) * 1000 + true_offset - rtt_us * 400
        sync.add(sent_ns, sent_ns + rtt_us * 1000, mcu_us % WRAP_US)
    assert base_us is not None
    assert sync.offset_ns is not None
    assert sync.uncertainty_ns is not None
    assert abs(sync.offset_ns - true_offset) <= sync.uncertainty_ns + 1
    assert sync.to_host_ns(mcu_us % WRAP_US) == (mcu_us - base_us) * 1000 + sync.offset_ns


def test_mcu_clock_unwraps_and_tolerates_a_slightly_old_stamp() -> None:
    sync = ClockSync()
    assert sync.unwrap_us(WRAP_US - 10) == WRAP_US - 10
    assert sync.unwrap_us(5) == WRAP_US + 5  # wrapped
    assert sync.unwrap_us(WRAP_US - 3) == WRAP_US - 3  # from just before the wrap
    sync.reset()
    assert sync.offset_ns is None

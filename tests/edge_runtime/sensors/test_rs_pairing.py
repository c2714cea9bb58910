"""The pairing filter: only new, matching depth+color pairs pass, and every reject is counted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.sensors.pairing import PairFilter


def test_rs_playback_quirks_are_filtered() -> None:
    pairs = PairFilter(period_ms=33.3)
    # Frame 0 missing, a new depth with the previous color, a repeat, then a gap of two frames.
    seq = [(1, 1), (2, 1), (2, 2), (2, 2), (3, 3), (6, 6), (None, 7)]
    kept = [s for s in seq if pairs.accept(s[0], s[1], 33.3 * (s[0] or 0), 33.3 * s[1])]
    assert kept == [(1, 1), (2, 2), (3, 3), (6, 6)]
    assert pairs.counters() == {
        "paired": 4,
        "mismatched": 0,
        "repeated": 2,
        "incomplete": 1,
        "dropped": 2,
    }


def test_rs_live_camera_pairs_by_timestamp() -> None:
    """A D4xx numbers depth and color independently: pair by device time instead."""
    pairs = PairFilter(period_ms=33.3)
    assert pairs.accept(100, 7, 1000.0, 1004.0)
    assert not pairs.accept(101, 8, 1033.0, 1070.0)  # color from the next period
    assert pairs.accept(102, 9, 1066.0, 1067.0)
    assert pairs.mismatched == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=40))
def test_rs_kept_pairs_are_new_and_matching(seq: list[tuple[int, int]]) -> None:
    pairs = PairFilter(period_ms=33.3)
    kept = [(d, c) for d, c in seq if pairs.accept(d, c, 33.3 * d, 33.3 * c)]
    assert all(d == c for d, c in kept)
    assert [d for d, _ in kept] == sorted({d for d, _ in kept})  # strictly increasing
    counts = pairs.counters()
    assert counts["paired"] + counts["mismatched"] + counts["repeated"] == len(seq)

"""Frame sets: frames of several cameras matched by capture time, never across the tolerance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.frame_set import FrameSet, FrameSetMatcher, camera_frames, spread_ms

INTR = Intrinsics(16, 16, 10.0, 10.0, 7.5, 7.5)
PIXELS = np.zeros((16, 16, 3), np.uint8)
DEPTH = np.zeros((16, 16), np.uint16)


def frame(device_ms: float, host_ns: int, number: int = 0, clock: str = "sim") -> Frame:
    return Frame(PIXELS, DEPTH, 0.001, INTR, device_ms, host_ns, number, clock)


def test_frame_sets_pair_the_nearest_frames_within_the_tolerance() -> None:
    matcher = FrameSetMatcher(["wrist", "scene"], tolerance_ms=5.0)
    assert matcher.offer("wrist", frame(100.0, 1)) is None  # the scene has nothing yet
    made = matcher.offer("scene", frame(102.0, 2, number=7))
    assert isinstance(made, FrameSet)
    assert made.skew_ms == pytest.approx(2.0)
    assert made.frame_number == 0  # the primary's (first camera's) own fields
    assert set(camera_frames(made)) == {"wrist", "scene"}
    assert made.cameras["scene"].frame_number == 7
    # The next wrist frame is 33 ms later: it must not reuse the scene frame already used.
    assert matcher.offer("wrist", frame(133.0, 3)) is None
    made = matcher.offer("scene", frame(135.5, 4))
    assert made is not None
    assert made.skew_ms == pytest.approx(2.5)
    stats = matcher.stats()
    assert stats["sets"] == 2
    assert stats["frames_unused"] == 0
    assert stats["skew_p50_ms"] == pytest.approx(2.25)
    assert stats["tolerance_ms"] == 5.0


def test_frame_sets_refuse_frames_further_apart_than_the_tolerance() -> None:
    matcher = FrameSetMatcher(["wrist", "scene"], tolerance_ms=5.0)
    matcher.offer("wrist", frame(100.0, 1))
    assert matcher.offer("scene", frame(105.001, 2)) is None
    assert matcher.offer("scene", frame(float("nan"), 3)) is None
    assert matcher.stats()["invalid_times"] == 1
    assert matcher.stats()["sets"] == 0


def test_frame_sets_match_on_arrival_time_when_clocks_cannot_be_compared() -> None:
    """Two cameras' hardware clocks count from their own power-on: use the host's."""
    matcher = FrameSetMatcher(["a", "b"], tolerance_ms=5.0)
    matcher.offer("a", frame(10.0, 1_000_000_000, clock="hardware_clock"))
    made = matcher.offer("b", frame(9_999_999.0, 1_003_000_000, clock="hardware_clock"))
    assert made is not None
    assert made.skew_ms == pytest.approx(3.0)


def test_a_lone_frame_is_the_default_cameras() -> None:
    single = frame(1.0, 1)
    assert camera_frames(single) == {"camera": single}
    assert camera_frames(single, "scene") == {"scene": single}


times = st.one_of(
    st.floats(-1e3, 1e3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 33.3, 33.3, -0.0, 1e15]),
)


@settings(max_examples=80, deadline=None, derandomize=True)  # never flaky
@given(
    offers=st.lists(
        st.tuples(st.integers(0, 2), times, st.integers(0, 3), st.booleans()),
        max_size=60,
    ),
    tolerance_ms=st.floats(0.0, 20.0),
)
def test_frame_sets_never_span_more_than_the_tolerance(
    offers: list[tuple[int, float, int, bool]], tolerance_ms: float
) -> None:
    """Adversarial timestamps (backwards, repeated, NaN, infinite, huge, clocks mixed): every
    set spans at most the tolerance, and no frame is used twice or after a newer one."""
    names = ["wrist", "scene", "top"]
    matcher = FrameSetMatcher(names, tolerance_ms)
    host_ns = 0
    used: dict[str, int] = {}
    for index, (camera, device_ms, host_step_ms, shared_clock) in enumerate(offers):
        host_ns += host_step_ms * 1_000_000
        clock = "sim" if shared_clock else "hardware_clock"
        made = matcher.offer(names[camera], frame(device_ms, host_ns, index, clock))
        if made is None:
            continue
        members = [made.cameras[n] for n in names]
        assert spread_ms(members) <= tolerance_ms
        assert made.skew_ms <= tolerance_ms
        assert not math.isnan(made.skew_ms)
        for name in names:
            arrived = made.cameras[name].host_time_ns
            assert arrived > used.get(name, -1)
            used[name] = arrived
    assert matcher.stats()["sets"] * len(names) <= len(offers)

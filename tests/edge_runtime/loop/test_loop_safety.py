"""The safety filter: limits, step clamps, hold then stop."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.loop.safety import SafetyFilter, SafetyLimits

MS = 1_000_000


@pytest.fixture
def safety() -> SafetyFilter:
    limits = SafetyLimits.from_joints(
        lower=[-1.0, -1.0],
        upper=[1.0, 1.0],
        max_velocity=[2.0, 2.0],
        period_s=0.01,
        hold_timeout_s=0.05,
    )
    f = SafetyFilter(limits)
    f.start(np.zeros(2))
    f.arm()
    return f


def test_small_move_passes_unchanged(safety: SafetyFilter) -> None:
    cmd = safety.filter(np.array([0.01, -0.01]), None, 0)
    assert cmd.mode == "run"
    assert cmd.target_rad == pytest.approx([0.01, -0.01])
    assert cmd.events == ()


def test_step_is_limited_to_max_velocity_times_period(safety: SafetyFilter) -> None:
    cmd = safety.filter(np.array([0.5, 0.0]), None, 0)
    assert cmd.target_rad == pytest.approx([0.02, 0.0])
    assert safety.counts["clamp_step"] == 1


def test_position_outside_limits_is_clamped_never_sent(safety: SafetyFilter) -> None:
    target = np.zeros(2)
    for t in range(200):
        target = safety.filter(np.array([5.0, -5.0]), None, t * 10 * MS).target_rad
    assert target == pytest.approx([1.0, -1.0])
    assert safety.counts["clamp_position"] == 200


def test_empty_queue_holds_then_stops(safety: SafetyFilter) -> None:
    safety.filter(np.array([0.01, 0.0]), None, 0)
    held = safety.filter(None, None, 10 * MS)
    assert held.mode == "hold"
    assert held.target_rad == pytest.approx([0.01, 0.0])
    assert safety.filter(None, None, 50 * MS).mode == "hold"
    stop = safety.filter(None, None, 70 * MS)
    assert stop.mode == "stop"
    assert stop.target_rad == pytest.approx([0.01, 0.0])


def test_stale_observation_holds_even_with_a_plan(safety: SafetyFilter) -> None:
    cmd = safety.filter(np.array([0.5, 0.5]), "stale_observation", 0)
    assert cmd.mode == "hold"
    assert ("hold", "stale_observation") in cmd.events


def test_resuming_resets_the_hold_timer(safety: SafetyFilter) -> None:
    safety.filter(None, None, 0)
    safety.filter(np.array([0.0, 0.0]), None, 40 * MS)
    assert safety.filter(None, None, 60 * MS).mode == "hold"
    assert safety.counts["resume"] == 1


def test_non_finite_action_holds(safety: SafetyFilter) -> None:
    cmd = safety.filter(np.array([np.nan, 0.0]), None, 0)
    assert cmd.mode == "hold"
    assert np.all(np.isfinite(cmd.target_rad))


def test_a_model_that_keeps_answering_nan_is_stopped(safety: SafetyFilter) -> None:
    # Found by `edgerun bench faults` (nan_actions): each NaN chunk counted as a plan
    # available again, which restarted the hold timer, so the arm held forever.
    modes = [safety.filter(np.array([np.nan, np.inf]), None, t * 10 * MS).mode for t in range(8)]
    assert modes[0] == "hold"
    assert modes[-1] == "stop"
    assert safety.counts["resume"] == 0


def test_no_stop_before_armed() -> None:
    limits = SafetyLimits.from_joints([-1], [1], [1], 0.01, 0.01)
    f = SafetyFilter(limits)
    f.start(np.array([3.0]))
    assert f.last_command == pytest.approx([1.0])  # even the start position is clamped
    assert f.filter(None, None, 10**9).mode == "hold"


def test_no_first_plan_stops_after_the_first_plan_timeout() -> None:
    limits = SafetyLimits.from_joints([-1.0], [1.0], [1.0], 0.01, 0.05, first_plan_timeout_s=0.2)
    f = SafetyFilter(limits)
    f.start(np.zeros(1))
    assert f.filter(None, None, 0).mode == "hold"
    assert f.filter(None, None, 150 * MS).mode == "hold"  # past hold_timeout: not armed yet
    cmd = f.filter(None, None, 250 * MS)
    assert cmd.mode == "stop"
    assert "no usable plan since the start" in cmd.events[-1][1]

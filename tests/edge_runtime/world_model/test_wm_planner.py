"""The planner on a real ONNX rollout graph: better chunks, no harm, frozen prefix, budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from wm_graphs import GOAL, LATENT_SOURCE, D, H, J, N, rollout_engine

from edge_runtime.loop.clock import SimClock
from edge_runtime.world_model.planner import Planner, PlannerSettings

DT_NS = 20_000_000
MAX_STEP = np.full(J, 0.04)  # 2 rad/s at dt 0.02
LIMITS = np.array([[-1.0, 1.0]] * J)


def settings(**overrides: float) -> PlannerSettings:
    base = dict(
        samples=N,
        iterations=6,
        elites=6,
        noise_rad=0.1,
        warm_start_fraction=0.25,
        margin=1e-4,
        budget_s=10.0,
    )
    base.update(overrides)
    return PlannerSettings(**base)  # type: ignore[arg-type]


def values(q: np.ndarray) -> dict[str, np.ndarray]:
    return {
        LATENT_SOURCE: np.zeros((1, D), np.float32),
        "observation.joint_positions": q[None].astype(np.float32),
    }


@pytest.fixture
def planner(tmp_path: Path) -> Planner:
    engine, spec = rollout_engine(tmp_path)
    return Planner(engine, spec, settings(), LIMITS, MAX_STEP, DT_NS, SimClock(), seed=3)


def test_planner_improves_a_poor_chunk(planner: Planner) -> None:
    q = np.zeros(J)
    policy = np.zeros((H, J))  # holds still: far from the goal posture
    result = planner.plan(values(q), policy, q, t_obs_ns=0)
    assert result.overridden
    assert result.cost_best < result.cost_policy - 1e-4
    assert result.iterations == 6
    # The chosen chunk moves toward the goal on every joint.
    assert np.all(np.sign(result.actions[-1]) == np.sign(GOAL))


def test_planner_does_no_harm_to_a_good_chunk(planner: Planner) -> None:
    q = GOAL.astype(float)
    policy = np.repeat(GOAL[None], H, axis=0).astype(float)  # already the optimum
    result = planner.plan(values(q), policy, q, t_obs_ns=0)
    assert not result.overridden
    np.testing.assert_array_equal(result.actions, policy)


def test_planner_keeps_committed_actions_and_limits(planner: Planner) -> None:
    q = np.zeros(J)
    policy = np.linspace(0.0, 0.02, H)[:, None] * np.ones(J)
    result = planner.plan(values(q), policy, q, t_obs_ns=0, committed=3)
    np.testing.assert_allclose(result.actions[:3], policy[:3])
    steps = np.abs(np.diff(np.concatenate([q[None], result.actions]), axis=0))
    assert np.all(steps <= MAX_STEP + 1e-9)
    assert np.all(np.abs(result.actions) <= 1.0)


def test_planner_warm_starts_from_the_shifted_previous_plan(planner: Planner) -> None:
    q = np.zeros(J)
    first = planner.plan(values(q), np.zeros((H, J)), q, t_obs_ns=0)
    shifted = np.concatenate([first.actions[5:], np.repeat(first.actions[-1:], 5, axis=0)])
    # 5 actions later the policy proposes holding still again; the warm start (candidate 1)
    # continues the previous plan, and the committed actions are that plan's, not the policy's.
    second = planner.plan(values(q), np.zeros((H, J)), q, t_obs_ns=5 * DT_NS, committed=2)
    np.testing.assert_allclose(second.actions[:2], shifted[:2])
    assert second.cost_best <= first.cost_best + 1e-6


def test_planner_stops_iterating_before_the_budget(tmp_path: Path) -> None:
    engine, spec = rollout_engine(tmp_path)
    clock = SimClock(step_cost_ns=1_000_000)  # every clock read costs 1 ms of "work"
    planner = Planner(engine, spec, settings(budget_s=0.012), LIMITS, MAX_STEP, DT_NS, clock)
    q = np.zeros(J)
    result = planner.plan(values(q), np.zeros((H, J)), q, t_obs_ns=0)
    assert 0 < result.iterations < 6
    assert result.elapsed_ns <= 12_000_000 + 3_000_000  # one iteration's reads at most over


def test_planner_refuses_a_sample_count_the_graph_does_not_have(tmp_path: Path) -> None:
    from edge_runtime.errors import BundleError

    engine, spec = rollout_engine(tmp_path)
    with pytest.raises(BundleError, match="samples = 32"):
        Planner(engine, spec, settings(samples=16), LIMITS, MAX_STEP, DT_NS, SimClock())

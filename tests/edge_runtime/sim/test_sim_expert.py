"""Scripted expert: MuJoCo-Jacobian IK, ramp chunks, closed-loop success, episode data."""

from __future__ import annotations

import numpy as np

from edge_runtime.sim.episodes import collect_episodes
from edge_runtime.sim.expert import (
    ChunkSpec,
    IkSolver,
    ScriptedExpert,
    ramp_chunk,
    run_expert_episode,
)
from edge_runtime.sim.world import JOINT_NAMES, SimWorld


def test_sim_ik_reaches_goals_with_the_tool_down_within_limits() -> None:
    world = SimWorld()
    ik = IkSolver(world)
    limits = world.joint_limits()
    for seed in range(10):
        world.reset(seed)
        goal = world.goal_position()
        q = ik.solve(goal)
        pos, axis = ik.forward(q)
        assert np.linalg.norm(pos - goal) < 1e-3
        assert axis[2] < -0.99
        assert np.all((q >= limits[:, 0]) & (q <= limits[:, 1]))
    assert np.array_equal(world.joint_positions(), world.home_joints())  # live data untouched


def test_sim_ramp_chunk_is_rate_limited_and_ends_at_the_goal() -> None:
    q = np.zeros(4)
    goal = np.array([0.25, -0.2, 0.1, 0.0])  # within 16 x 0.02 rad
    chunk = ramp_chunk(q, goal, chunk_length=16, dt_s=0.02, max_velocity_rad_s=1.0)
    assert chunk.shape == (16, 4)
    steps = np.diff(np.vstack([q, chunk]), axis=0)
    assert np.max(np.abs(steps)) <= 0.02 + 1e-12
    assert np.allclose(chunk[-1], goal)
    # Joints move together: every step is a multiple of the same direction.
    assert np.allclose(steps[0] / np.linalg.norm(steps[0]), goal / np.linalg.norm(goal))


def test_sim_expert_reaches_the_target_in_closed_loop() -> None:
    world = SimWorld()
    expert = ScriptedExpert(world)
    results = [run_expert_episode(world, expert, seed) for seed in range(10)]
    assert all(success for success, _ in results), results


def test_sim_collect_episodes_is_deterministic_and_well_shaped() -> None:
    spec = ChunkSpec(chunk_length=8, dt_s=0.02)
    a = collect_episodes(2, seed=5, width=64, height=48, spec=spec, episode_s=1.0)
    b = collect_episodes(1, seed=5, width=64, height=48, spec=spec, episode_s=1.0)
    n = a["color"].shape[0]
    assert n == 20  # 2 episodes x 1.0 s / 0.1 s
    assert a["color"].shape == (n, 48, 64, 3)
    assert a["color"].dtype == np.uint8
    assert a["depth"].shape == (n, 48, 64)
    assert a["depth"].dtype == np.uint16
    assert a["joint_positions"].shape == (n, 4)
    assert a["actions"].shape == (n, 8, 4)
    assert a["actions"].dtype == np.float32
    assert list(a["episode"]) == [0] * 10 + [1] * 10
    assert a["success"].shape == (2,)
    assert tuple(a["joint_names"]) == JOINT_NAMES
    for key in ("color", "depth", "joint_positions", "actions", "target_m"):
        assert np.array_equal(a[key][:10], b[key]), key
    assert 300 < np.median(a["depth"][0]) < 2000  # millimetres: the table is under a metre away

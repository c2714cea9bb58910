"""SimWorld: the MJCF, seeded targets, deterministic stepping, tracking, real-time advance."""

from __future__ import annotations

import time
from importlib.resources import files

import numpy as np
import pytest

from edge_runtime.config import load_config
from edge_runtime.sim.world import JOINT_NAMES, SimWorld, TargetRegion


def test_sim_world_joints_match_the_robot_config() -> None:
    world = SimWorld()
    config = load_config(files("edge_runtime.sim") / "robot.toml")
    assert tuple(config.joint_names) == JOINT_NAMES
    assert config.motor_ids == [1, 2, 3, 4]
    assert config.sim.enabled
    assert config.camera.type == "sim"
    limits = world.joint_limits()
    for joint, (lo, hi) in zip(config.joints, limits):
        assert (joint.min_rad, joint.max_rad) == (lo, hi)
    assert np.all((world.home_joints() > limits[:, 0]) & (world.home_joints() < limits[:, 1]))


def test_sim_world_targets_are_seeded_and_inside_the_region() -> None:
    world = SimWorld()
    region = TargetRegion()
    first = world.reset(3)
    assert np.array_equal(first, world.reset(3))
    assert not np.array_equal(first, world.reset(4))
    for seed in range(20):
        x, y, z = world.reset(seed)
        radius, yaw = np.hypot(x, y), np.arctan2(y, x)
        assert region.radius_m[0] <= radius <= region.radius_m[1]
        assert region.yaw_rad[0] <= yaw <= region.yaw_rad[1]
        assert z == region.height_m
        assert np.allclose(world.target_position(), (x, y, z))


def test_sim_world_steps_deterministically_and_tracks_targets() -> None:
    worlds = [SimWorld(seed=1), SimWorld(seed=1)]
    goal = np.array([0.4, 0.5, 1.2, 1.3])
    for world in worlds:
        world.set_joint_targets(goal)
        world.step(500)  # 1 s
    assert np.array_equal(worlds[0].joint_positions(), worlds[1].joint_positions())
    assert worlds[0].time_s == pytest.approx(500 * worlds[0].timestep_s)
    # P-only servos droop a little under gravity, as real ones do.
    assert np.max(np.abs(worlds[0].joint_positions() - goal)) < 0.02
    assert np.max(np.abs(worlds[0].joint_velocities())) < 0.01


def test_sim_world_success_metric_uses_the_hover_point() -> None:
    world = SimWorld(seed=2)
    assert np.allclose(world.goal_position() - world.target_position(), [0, 0, 0.045])
    assert not world.task_success(0.02)
    assert world.distance_to_goal() > 0.05


def test_sim_world_real_time_follows_the_clock_and_never_runs_ahead() -> None:
    manual = SimWorld()
    manual.advance_to_wall()
    assert manual.time_s == 0.0
    world = SimWorld(realtime=True)
    start = time.monotonic()
    time.sleep(0.03)
    world.advance_to_wall()
    assert 0.0 < world.time_s <= time.monotonic() - start + world.timestep_s
    world.start(period_s=0.005)
    world.start()  # idempotent
    time.sleep(0.03)
    world.stop()
    world.stop()
    assert world.time_s > 0.03


def test_sim_world_camera_pose_is_a_rigid_transform_looking_at_the_table() -> None:
    pose = SimWorld().camera_pose_cv()
    rot = pose[:3, :3]
    assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-9)
    assert np.isclose(np.linalg.det(rot), 1.0)
    assert rot[2, 2] < -0.5  # optical axis (camera z) points down at the table

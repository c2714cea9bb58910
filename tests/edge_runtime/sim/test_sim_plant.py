"""MujocoPlant: the ServoPlant the simulated Dynamixel chain drives."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.sim.plant import MujocoPlant
from edge_runtime.sim.world import JOINT_NAMES, SimWorld


def test_sim_plant_powers_up_limp_and_sags_under_gravity() -> None:
    world = SimWorld()
    plant = MujocoPlant(world, JOINT_NAMES)
    start, _, current = plant.measure()
    assert np.array_equal(current, np.zeros(4))
    world.step(1000)
    position, _, current = plant.measure()
    assert position[2] - start[2] > 0.02  # the elbow sags against gearbox friction
    assert np.array_equal(current, np.zeros(4))


def test_sim_plant_tracks_goals_with_torque_on_and_reports_current() -> None:
    world = SimWorld()
    plant = MujocoPlant(world)
    goal = np.array([0.3, 0.4, 1.5, 1.2])
    plant.command(goal, np.ones(4, dtype=bool))
    world.step(500)
    position, velocity, current = plant.measure()
    assert np.max(np.abs(position - goal)) < 0.02
    assert np.max(np.abs(velocity)) < 0.01
    assert np.any(np.abs(current) > 0.01)  # holding the arm against gravity draws current
    assert np.all(np.abs(current) < 2.5)  # below stall current


def test_sim_plant_mixed_torque_and_reordered_joints() -> None:
    world = SimWorld()
    names = ("wrist_pitch", "base_yaw", "shoulder_pitch", "elbow_pitch")
    plant = MujocoPlant(world, names)
    plant.command(np.array([1.0, 0.5, -0.2, 1.7]), np.array([True, True, True, False]))
    world.step(400)
    position, _, current = plant.measure()
    assert abs(position[1] - 0.5) < 0.02  # base yaw follows its goal, reported in this order
    assert current[3] == 0.0  # the limp elbow draws nothing
    with pytest.raises(ValueError, match="not in the simulated arm"):
        MujocoPlant(world, ("gripper",))
    with pytest.raises(ValueError, match="expected 4 goals"):
        plant.command(np.zeros(3), np.ones(3, dtype=bool))


def test_sim_plant_in_real_time_advances_on_every_call() -> None:
    world = SimWorld(realtime=True)
    plant = MujocoPlant(world)
    plant.command(world.home_joints(), np.ones(4, dtype=bool))
    t0 = world.time_s
    for _ in range(1000):
        plant.measure()
        if world.time_s > t0:
            break
    assert world.time_s > t0

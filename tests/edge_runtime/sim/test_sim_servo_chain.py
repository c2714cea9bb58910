"""The simulated arm behind the real Dynamixel driver: DynamixelBus -> pty -> SimServoChain ->
MujocoPlant -> MuJoCo, in real time. The bytes on the wire are real Protocol 2.0."""

from __future__ import annotations

import time

import numpy as np

from edge_runtime.sim.plant import MujocoPlant
from edge_runtime.sim.world import SimWorld
from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.sim.servo_device import SimServoChain

PATIENT = 0.05  # a loaded shared machine: give in-process replies time to arrive


def test_sim_arm_moves_through_the_dynamixel_driver() -> None:
    world = SimWorld(seed=0, realtime=True)
    ids = [1, 2, 3, 4]
    with (
        SimServoChain(ids, plant=MujocoPlant(world)) as chain,
        DynamixelBus(chain.port, ids, latency_s=PATIENT) as bus,
    ):
        state = bus.read_state()
        assert state.ok
        np.testing.assert_allclose(state.positions_rad, world.home_joints(), atol=0.02)
        bus.enable()
        goal = state.positions_rad + np.array([0.3, 0.1, -0.2, 0.1])
        for _ in range(600):  # up to ~6 s on a loaded machine; usually well under 1 s
            bus.write_goal(goal)
            state = bus.read_state()
            if state.ok and np.allclose(state.positions_rad, goal, atol=0.03):
                break
            time.sleep(0.01)
        np.testing.assert_allclose(state.positions_rad, goal, atol=0.03)
        np.testing.assert_allclose(world.joint_positions(), goal, atol=0.03)
        assert np.any(np.abs(state.currents_a) > 0.0)  # holding against gravity
        bus.disable()
        assert np.array_equal(bus.read_state().currents_a, np.zeros(4))

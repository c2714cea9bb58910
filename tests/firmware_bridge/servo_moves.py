"""Driving a bus to a goal in tests: write, read, until it is there (or the tries run out)."""

from __future__ import annotations

import time

import numpy as np

from firmware_bridge.base import JointState, MotorBus


def drive_to(bus: MotorBus, goal: np.ndarray, atol: float = 2e-3, tries: int = 300) -> JointState:
    """The last state read while commanding `goal`: the caller asserts it arrived."""
    for _ in range(tries):
        bus.write_goal(goal)
        state = bus.read_state()
        if state.ok and np.allclose(state.positions_rad, goal, atol=atol):
            break
        time.sleep(0.005)
    return state

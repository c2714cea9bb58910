"""Driving a bus to a goal in tests: write, read, until it is there (or the time runs out)."""

from __future__ import annotations

import time

import numpy as np

from firmware_bridge.base import JointState, MotorBus


def drive_to(
    bus: MotorBus, goal: np.ndarray, atol: float = 2e-3, timeout_s: float = 15.0
) -> JointState:
    """The last state read while commanding `goal`: the caller asserts it arrived.

    Bounded by time, not by a number of tries: a simulated servo approaches its goal
    asymptotically and its process can be starved for a while (a full suite run once ended
    300 tries 2 mrad short), so the bound is generous and only a broken servo ever reaches it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        bus.write_goal(goal)
        state = bus.read_state()
        if state.ok and np.allclose(state.positions_rad, goal, atol=atol):
            return state
        if time.monotonic() > deadline:
            return state
        time.sleep(0.005)

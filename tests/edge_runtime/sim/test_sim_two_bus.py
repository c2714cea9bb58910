"""A robot on two motor buses (`[[buses]]`), end to end on the simulated arm.

robots/two_bus.toml puts base, shoulder and elbow on bus "arm" and the wrist on bus "wrist": two
simulated servo chains, each on its own pty, driving one MuJoCo arm. The runtime opens them
as one `MultiBus`, reads and writes both every tick, and ends with torque off on both.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from edge_runtime.drive import demo_config
from edge_runtime.errors import ConfigError
from edge_runtime.robot import open_motor_bus
from edge_runtime.sim.rig import SimRig


def test_two_bus_robot_assigns_joints_to_named_buses() -> None:
    """The drive end to end on two buses runs in test_sim_two_cameras.py (the richer robot has
    both: two cameras and two buses)."""
    config = demo_config(robot="two-bus")
    assert [(b.name, b.kind) for b in config.buses] == [
        ("arm", "dynamixel"),
        ("wrist", "dynamixel"),
    ]
    assert [j.bus for j in config.joints] == ["arm", "arm", "arm", "wrist"]
    assert [j.bus for j in demo_config(robot="two-camera").joints] == [j.bus for j in config.joints]


def test_mcu_motors_are_refused_for_a_robot_with_named_buses() -> None:
    with pytest.raises(ConfigError, match=r"--motors mcu drives the desk arm's single bus"):
        demo_config("mcu", robot="two-bus")
    with pytest.raises(ConfigError, match=r"unknown robot 'biped'; choose one of arm, two-bus"):
        demo_config(robot="biped")


def test_every_joint_of_the_two_bus_arm_follows_its_goal() -> None:
    """Each bus's simulated chain drives its own joints of the one MuJoCo arm. A chain started
    after another had put the arm's motors limp once took its "engaged" gains from the limp
    model: every joint of the second plant stayed limp, and the two-bus demo never reached
    its target."""
    config = demo_config(robot="two-bus")
    with SimRig(config) as rig, open_motor_bus(config, rig.port, bus_ports=rig.bus_ports) as bus:
        start = bus.read_state().positions_rad
        bus.enable()
        goal = start + np.array([0.15, 0.15, -0.15, 0.15])
        deadline = time.monotonic() + 15.0  # a starved simulator is slow, never wrong
        while True:
            bus.write_goal(goal)
            state = bus.read_state()
            if np.allclose(state.positions_rad, goal, atol=0.02) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
    np.testing.assert_allclose(state.positions_rad, goal, atol=0.02)

"""A robot on two motor buses (`[[buses]]`), end to end on the simulated arm.

two_bus.toml puts base, shoulder and elbow on bus "arm" and the wrist on bus "wrist": two
simulated servo chains, each on its own pty, driving one MuJoCo arm. The runtime opens them
as one `MultiBus`, reads and writes both every tick, and ends with torque off on both.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

from edge_runtime.config import load_config
from edge_runtime.drive import TWO_BUS_CONFIG, DriveOptions, demo_bundle, drive, two_bus_config


@pytest.mark.slow
def test_two_bus_robot_runs_end_to_end(tmp_path: Path) -> None:
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    config = two_bus_config()
    assert [(b.name, b.kind) for b in config.buses] == [
        ("arm", "dynamixel"),
        ("wrist", "dynamixel"),
    ]
    assert [j.bus for j in config.joints] == ["arm", "arm", "arm", "wrist"]
    # A loaded CI machine can starve the simulator's process for half a second (the single-bus
    # demo too): a longer hold before a bad-state safety stop keeps this test about the buses.
    text = resources.files("edge_runtime.sim").joinpath(TWO_BUS_CONFIG).read_text()
    patient = text.replace("hold_timeout_s = 0.5", "hold_timeout_s = 3.0")
    (tmp_path / "robot.toml").write_text(patient)
    config = load_config(tmp_path / "robot.toml")
    options = DriveOptions(duration_s=1.5, out_dir=tmp_path, bundle=demo_bundle(tmp_path))
    outcome = drive(config, options)
    report = outcome.report
    assert outcome.result.error() is None, report
    assert report["ticks"] == 150
    assert report["stop_reason"] == "duration reached"
    assert report["sim_motors"]["torque_on"] == [False] * 4  # both chains: torque off at the end

"""The demo's simulated robot in its own process: frames over shared memory, servos on a pty."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.cli.main import main
from edge_runtime.config import load_config
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sim.shared_camera import FrameCodec


def test_frame_codec_round_trip() -> None:
    rng = np.random.default_rng(0)
    frame = Frame(
        color=rng.integers(0, 255, (6, 8, 3), dtype=np.uint8),
        depth=rng.integers(0, 65535, (6, 8), dtype=np.uint16),
        depth_scale_m=0.001,
        intrinsics=Intrinsics(8, 6, 5.0, 5.0, 4.0, 3.0),
        device_time_ms=1234.5,
        host_time_ns=987654321012,
        frame_number=42,
    )
    codec = FrameCodec(6, 8)
    packed = np.zeros(codec.nbytes, np.uint8)
    codec.pack(frame, packed)
    back = codec.unpack(packed, frame.intrinsics, 0.001)
    np.testing.assert_array_equal(back.color, frame.color)
    np.testing.assert_array_equal(back.depth, frame.depth)
    assert (back.device_time_ms, back.host_time_ns, back.frame_number) == (1234.5, 987654321012, 42)


@pytest.fixture
def sim_config():
    with resources.as_file(resources.files("edge_runtime.sim").joinpath("robot.toml")) as path:
        yield load_config(path)


def test_rig_serves_frames_and_servos(sim_config) -> None:
    from edge_runtime.sim.rig import SimRig
    from firmware_bridge.dynamixel.bus import DynamixelBus

    with SimRig(sim_config, seed=2) as rig:
        assert rig.camera is not None
        with rig.camera as camera:
            frame, _ = camera.wait_frame(0, timeout_s=10)
            assert frame is not None
            assert frame.color.shape == (96, 128, 3)
            assert frame.depth.max() > 0
        with DynamixelBus(rig.port, sim_config.motor_ids) as bus:
            state = bus.read_state()
            assert state.ok
            bus.enable()
            assert rig.torque_enabled() == [True] * 4
        assert rig.torque_enabled() == [False] * 4  # close() turned torque off
        task = rig.task_result()
        assert task["success"] is False
        assert task["target_distance_mm"] > 20


def test_demo_reaches_the_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--duration", "6", "--out", str(tmp_path), "--seed", "3"])
    assert code == 0, capsys.readouterr()
    report = json.loads((tmp_path / "run-report.json").read_text())
    assert report["ticks"] == 600
    assert report["task"]["success"] is True
    assert report["chunks"]["received"] > 20
    assert (tmp_path / "loop-timing.png").stat().st_size > 10_000

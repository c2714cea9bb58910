"""Live loops against camera twins: view collection, depth check, INT8 capture."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from calibration.board import BoardSpec
from calibration.board_camera import BoardCamera
from calibration.depth import check_depth
from calibration.int8_capture import NPZ_NAME, capture, write_dataset
from calibration.int8_observations import observations
from calibration.intrinsics import calibrate_intrinsics
from calibration.synthetic import SyntheticCamera, random_board_poses
from calibration.views import collect_views
from edge_runtime.bundle.manifest import Preprocessing, TensorEntry
from edge_runtime.calibration_artifacts import INT8, load_calibration, write_document
from edge_runtime.errors import CalibrationError
from edge_runtime.sensors.frame_set import FrameSet
from export.samples import load_samples
from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.sim.plant import FirstOrderPlant
from firmware_bridge.sim.servo_device import SimServoChain

SPEC = BoardSpec()
HANG_S = 60.0  # waits end on a new frame; this bound only catches a camera that stopped
LENS = SyntheticCamera(640, 360, 455.0, 454.0, 320.7, 179.1, (0.05, -0.1, 0.0, 0.0, 0.02))


def _poses(count: int, seed: int = 0) -> list[np.ndarray]:
    return random_board_poses(np.random.default_rng(seed), count, SPEC, LENS)


def _frames(camera: BoardCamera, count: int) -> list:
    frames, version = [], 0
    while len(frames) < count:
        frame, newest = camera.wait_frame(version, HANG_S)
        assert frame is not None
        assert newest > version
        frames.append(frame)
        version = newest
    return frames


def test_cal_live_views_are_distinct_saved_and_calibrate(tmp_path: Path) -> None:
    poses = _poses(10)
    with BoardCamera(SPEC, LENS, poses, fps=60) as camera:
        views, size, factory = collect_views(camera, SPEC, 7, tmp_path / "views", timeout_s=60)
    assert size == (640, 360)
    assert len({name for name, _ in views}) == 7
    assert len(list((tmp_path / "views").glob("view_*.png"))) == 7
    result = calibrate_intrinsics(views, size)
    assert result.matrix[0, 0] == pytest.approx(LENS.fx, rel=0.03)
    assert result.compare_factory(factory)["factory_fx_diff_pct"] == pytest.approx(
        100 * (result.matrix[0, 0] - LENS.fx) / LENS.fx
    )


def test_cal_depth_bias_is_measured_and_flags_self_calibration() -> None:
    pose = _poses(1, seed=3)[0]
    for bias_m, flagged in ((0.0, False), (0.015, True)):
        with BoardCamera(SPEC, LENS, [pose], fps=60, depth_bias_m=bias_m, seed=1) as camera:
            frames = _frames(camera, 2)
        result = check_depth(frames, SPEC, LENS.matrix, LENS.coeffs, tolerance_pct=1.0)
        assert result.bias_mm == pytest.approx(bias_m * 1000, abs=1.5)
        assert result.plane_fit_rms_mm < 2.0
        assert result.needs_self_calibration is flagged


def test_cal_depth_without_the_board_in_view_says_where_to_hold_it() -> None:
    away = _poses(1)[0].copy()
    away[:3, 3] += [0, 0, -5.0]  # behind the camera
    with BoardCamera(SPEC, LENS, [away], fps=60) as camera:
        frames = _frames(camera, 1)
    with pytest.raises(CalibrationError, match="board is not visible"):
        check_depth(frames, SPEC, LENS.matrix, LENS.coeffs)


@pytest.fixture
def bus() -> Iterator[DynamixelBus]:
    plant = FirstOrderPlant(2, initial_rad=np.array([0.3, -0.2]))
    with (
        SimServoChain([1, 2], plant=plant) as chain,
        # The simulated servos answer from this test process: allow a loaded machine's delay.
        DynamixelBus(chain.port, [1, 2], latency_s=0.05) as motors,
    ):
        yield motors


def test_cal_int8_capture_writes_the_documented_npz_and_a_hashed_artifact(
    bus: DynamixelBus, tmp_path: Path
) -> None:
    offsets = np.array([0.1, 0.1])
    with BoardCamera(SPEC, LENS, _poses(3), fps=60) as camera:
        # The renderer may get no CPU for seconds on a loaded machine: the timeout only
        # catches a camera that stopped, it is not a pace the test depends on.
        frames, states = capture(
            camera, bus, 5, interval_s=0.02, offsets_rad=offsets, frame_timeout_s=HANG_S
        )
    preprocessing = Preprocessing((32, 48), depth_max_m=2.0)
    npz, document = write_dataset(tmp_path, frames, states, [1, 2], True, "SIM", preprocessing)
    write_document(tmp_path / INT8.filename, document)
    data = np.load(npz)
    assert data["color"].shape == (5, 360, 640, 3)
    assert data["color"].dtype == np.uint8
    assert data["depth"].dtype == np.uint16
    assert data["joint_positions_rad"].shape == (5, 2)
    np.testing.assert_allclose(data["joint_positions_rad"][0], [0.2, -0.3], atol=2e-3)
    assert data["motor_ids"].tolist() == [1, 2]
    assert bool(data["joints_calibrated"])
    assert np.all(np.diff(data["frame_number"]) > 0)
    calib = load_calibration(tmp_path)
    assert calib.int8 is not None
    assert calib.int8.count == 5
    # The quantizer's own loader reads the observations file, keyed by observation source.
    entries = (
        TensorEntry("rgbd", (1, 4, 32, 48), source="observation.rgbd"),
        TensorEntry("joints", (1, 2), source="observation.joint_positions"),
    )
    samples = load_samples(
        tmp_path / calib.int8.observations,
        entries,
        minimum=5,
        aliases={"rgbd": "observation.rgbd", "joints": "observation.joint_positions"},
    )
    assert len(samples) == 5
    feed = samples.feed(0)
    assert feed["rgbd"].shape == (1, 4, 32, 48)
    assert 0.0 <= float(feed["rgbd"][0, 3].min()) <= float(feed["rgbd"][0, 3].max()) <= 1.0
    np.testing.assert_allclose(feed["joints"][0], data["joint_positions_rad"][0])
    # `calibrate int8 --camera wrist`: the images are that camera's sources, by name.
    wrist = observations(npz, preprocessing, camera="wrist")
    assert sorted(wrist) == [
        "observation.joint_positions",
        "observation.wrist.depth",
        "observation.wrist.rgb",
        "observation.wrist.rgbd",
    ]
    np.testing.assert_array_equal(wrist["observation.wrist.rgbd"][:, None], samples.arrays["rgbd"])
    # A multi-camera robot's capture is frame sets: every camera's images are kept and the
    # observations carry each camera's sources by name beside the primary's unnamed ones.
    sets = [
        FrameSet.of({"scene": f, "wrist": replace(f, color=f.color[::-1].copy())}, "scene", 0.0)
        for f in frames
    ]
    both, _ = write_dataset(tmp_path / "sets", sets, states, [1, 2], True, "", preprocessing)
    assert np.load(both)["cameras"].tolist() == ["scene", "wrist"]
    named = observations(both, preprocessing)
    np.testing.assert_array_equal(named["observation.scene.rgbd"], named["observation.rgbd"])
    assert not np.array_equal(named["observation.wrist.rgb"], named["observation.rgb"])
    np.testing.assert_array_equal(
        named["observation.wrist.rgb"], named["observation.rgb"][:, :, ::-1]
    )
    warnings = document["quality"]["warnings"]
    assert any("barely moved" in w for w in warnings)  # the servos sat still
    # Tampering with the arrays after capture is caught.
    (tmp_path / NPZ_NAME).write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(CalibrationError, match="does not match its sha256"):
        load_calibration(tmp_path)

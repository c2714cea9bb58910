"""The runtime's calibration reader: round trip, tamper detection, device mismatch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.calibration_artifacts import (
    CAMERA,
    HANDEYE,
    JOINTS,
    Device,
    build_document,
    load_calibration,
    require_joint_calibration,
    validate_calibration,
    write_document,
)
from edge_runtime.calibration_artifacts.artifact import write_atomic
from edge_runtime.errors import CalibrationError

IDS = (1, 2, 3)


def _joints(root: Path, ids: tuple[int, ...] = IDS) -> Path:
    data = {
        "offsets_applied": "host",
        "joints": [
            {"id": i, "zero_offset_rad": 0.01 * i, "min_rad": -2.0, "max_rad": 2.0} for i in ids
        ],
    }
    doc = build_document(JOINTS.name, 1, Device(motor_ids=ids), {"verified": True}, data)
    return write_document(root / JOINTS.filename, doc)


def _camera(root: Path, serial: str = "123") -> Path:
    data = {
        "width": 640,
        "height": 480,
        "fx": 600.0,
        "fy": 601.0,
        "ppx": 320.0,
        "ppy": 240.0,
        "model": "brown_conrady",
        "coeffs": [0.1, -0.2, 0.0, 0.0, 0.05],
        "board": {"squares_x": 7},
    }
    doc = build_document(CAMERA.name, 1, Device(camera_serial=serial), {"rms_px": 0.2}, data)
    return write_document(root / CAMERA.filename, doc)


def _handeye(root: Path, ids: tuple[int, ...] = IDS, serial: str = "123") -> Path:
    data = {
        "mode": "to-hand",
        "transform": np.eye(4).tolist(),
        "parent_frame": "base",
        "method": "PARK",
        "robot_model": "arm.xml",
        "ee_site": "ee_site",
    }
    doc = build_document(HANDEYE.name, 1, Device(serial, ids), {"translation_mm": 0.4}, data)
    return write_document(root / HANDEYE.filename, doc)


def test_cal_round_trip_reads_every_kind_written(tmp_path: Path) -> None:
    _joints(tmp_path)
    _camera(tmp_path)
    _handeye(tmp_path)
    calib = load_calibration(tmp_path)
    assert calib.present() == ["camera_intrinsics", "handeye", "joints"]
    assert calib.camera is not None
    assert calib.camera.intrinsics.fy == 601.0
    assert calib.joints is not None
    np.testing.assert_allclose(calib.joints.host_offsets_rad(), [0.01, 0.02, 0.03])
    assert require_joint_calibration(tmp_path, [1, 2, 3]).motor_ids == [1, 2, 3]
    report = validate_calibration(tmp_path, motor_ids=[1, 2, 3], camera_serial="123")
    assert report.ok
    assert not report.complete


def test_cal_tampered_value_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = _joints(tmp_path)
    doc = json.loads(path.read_text())
    doc["data"]["joints"][0]["max_rad"] = 3.1
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(CalibrationError, match=r"sha256.*calibrate joints"):
        require_joint_calibration(tmp_path, IDS)


def test_cal_motor_ids_differing_from_the_artifact_are_named(tmp_path: Path) -> None:
    _joints(tmp_path)
    with pytest.raises(CalibrationError, match=r"\[4\] not calibrated; \[3\] calibrated"):
        require_joint_calibration(tmp_path, [1, 2, 4])
    report = validate_calibration(tmp_path, motor_ids=[1, 2, 4])
    assert not report.ok


def test_cal_missing_directory_and_missing_joints_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="does not exist"):
        require_joint_calibration(tmp_path / "nope", IDS)
    _camera(tmp_path)
    with pytest.raises(CalibrationError, match="calibrate joints --out"):
        require_joint_calibration(tmp_path, IDS)
    assert not validate_calibration(tmp_path).ok


def test_cal_inconsistent_artifacts_in_one_directory_are_refused(tmp_path: Path) -> None:
    _joints(tmp_path)
    _camera(tmp_path, serial="AAA")
    _handeye(tmp_path, serial="BBB")
    with pytest.raises(CalibrationError, match="different cameras"):
        load_calibration(tmp_path)


def test_cal_renamed_file_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    _camera(tmp_path)
    (tmp_path / CAMERA.filename).rename(tmp_path / JOINTS.filename)
    with pytest.raises(CalibrationError, match="holds a 'camera_intrinsics' artifact"):
        require_joint_calibration(tmp_path, IDS)
    data = {"offsets_applied": "host", "joints": [], "extra": 1}
    doc = build_document(JOINTS.name, 1, Device(motor_ids=IDS), {}, data)
    write_document(tmp_path / JOINTS.filename, doc)
    with pytest.raises(CalibrationError, match="unknown key 'extra'"):
        require_joint_calibration(tmp_path, IDS)


def test_cal_failed_atomic_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = _joints(tmp_path)
    before = path.read_bytes()
    with pytest.raises(TypeError):  # the write itself fails half-way, after the temp exists
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [JOINTS.filename]


@settings(max_examples=40, deadline=None)
@given(
    quality=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.text()),
        max_size=5,
    ),
    offset=st.floats(min_value=-3.0, max_value=3.0, allow_nan=False),
)
def test_cal_any_quality_round_trips_and_any_offset_change_is_caught(
    tmp_path_factory: pytest.TempPathFactory, quality: dict, offset: float
) -> None:
    root = tmp_path_factory.mktemp("prop")
    data = {
        "offsets_applied": "host",
        "joints": [{"id": 7, "zero_offset_rad": offset, "min_rad": -3.5, "max_rad": 3.5}],
    }
    doc = build_document(JOINTS.name, 1, Device(motor_ids=(7,)), quality, data)
    path = write_document(root / JOINTS.filename, doc)
    joints = require_joint_calibration(root, [7])
    assert joints.envelope.quality == quality
    assert joints.joints[0].zero_offset_rad == offset
    edited = json.loads(path.read_text())
    edited["data"]["joints"][0]["zero_offset_rad"] = offset + 0.001
    path.write_text(json.dumps(edited))
    with pytest.raises(CalibrationError, match="sha256"):
        require_joint_calibration(root, [7])

"""Calibration artifacts per camera serial; the single-camera files stay the primary's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_calart_reader import _camera, _handeye

from edge_runtime.calibration_artifacts import Device, build_document, write_document
from edge_runtime.calibration_artifacts.per_camera import camera_dir, load_every_camera
from edge_runtime.camera_config import CameraConfig
from edge_runtime.errors import CalibrationError

SCENE = CameraConfig(type="realsense", serial="123", name="scene", role="scene")
WRIST = CameraConfig(type="realsense", serial="456", name="wrist", role="wrist")


def _in_hand(path: Path) -> None:
    """Rewrite a hand-eye artifact as in-hand (and re-hash it): a wrist camera's."""
    doc = json.loads(path.read_text())
    data = {**doc["data"], "mode": "in-hand", "parent_frame": "ee_site"}
    device = Device(doc["device"]["camera_serial"], tuple(doc["device"]["motor_ids"]))
    write_document(path, build_document("handeye", 1, device, doc["quality"], data))


def test_each_camera_reads_its_own_serials_artifacts(tmp_path: Path) -> None:
    _camera(tmp_path, serial="123")  # the single-camera layout: the primary's
    _handeye(tmp_path, serial="123")
    wrist_dir = camera_dir(tmp_path, "456")
    wrist_dir.mkdir(parents=True)
    _camera(wrist_dir, serial="456")
    _in_hand(_handeye(wrist_dir, serial="456"))
    scene, wrist = load_every_camera(tmp_path, [SCENE, WRIST])
    assert scene.directory == tmp_path
    assert scene.handeye is not None
    assert scene.handeye.mode == "to-hand"
    assert wrist.directory == wrist_dir
    assert wrist.handeye is not None
    assert wrist.handeye.mode == "in-hand"
    assert wrist.intrinsics is not None
    # A camera nobody calibrated yet: found nowhere, not an error.
    (top,) = load_every_camera(tmp_path / "none", [WRIST])
    assert top.directory is None


def test_another_cameras_or_mountings_artifacts_are_refused(tmp_path: Path) -> None:
    wrist_dir = camera_dir(tmp_path, "456")
    wrist_dir.mkdir(parents=True)
    _handeye(wrist_dir, serial="456")  # to-hand: a scene camera's mounting
    with pytest.raises(CalibrationError, match=r"is to-hand but camera 'wrist' is a wrist camera"):
        load_every_camera(tmp_path, [SCENE, WRIST])
    _camera(camera_dir(tmp_path, "123"), serial="999")
    with pytest.raises(CalibrationError, match=r"made for camera 999 but camera 'scene' is 123"):
        load_every_camera(tmp_path, [SCENE])

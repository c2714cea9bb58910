"""Calibration artifacts per camera serial, for robots with several cameras.

Each camera has its own lens and its own place on the robot, so each has its own intrinsics
and its own hand-eye transform: `<dir>/cameras/<serial>/camera_intrinsics.json` and
`handeye.json` (`edgerun calibrate camera|handeye --serial S --out <dir>/cameras/S` writes
them there). A wrist camera moves with the hand, so its hand-eye is in-hand
(`T_gripper_camera`); a scene camera is fixed, to-hand (`T_base_camera`): an artifact of the
other mode belongs to another mounting and is refused. The single-camera layout (the files at
the top of the directory) stays valid for the robot's primary camera, when the files name its
serial or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.calibration_artifacts.schemas import (
    CAMERA,
    HANDEYE,
    Artifact,
    CameraCalibration,
    HandEyeCalibration,
    Kind,
    load_artifact,
)
from edge_runtime.camera_config import CameraConfig
from edge_runtime.errors import CalibrationError

CAMERAS_DIR = "cameras"
HANDEYE_MODE_OF_ROLE = {"wrist": "in-hand", "scene": "to-hand"}


@dataclass(frozen=True)
class CameraArtifacts:
    """One camera's calibration; a kind not calibrated yet is None."""

    name: str
    serial: str
    directory: Path | None  # where they were found (None: nowhere)
    intrinsics: CameraCalibration | None = None
    handeye: HandEyeCalibration | None = None


def camera_dir(root: str | Path, serial: str) -> Path:
    """Where camera `serial`'s artifacts live."""
    return Path(root) / CAMERAS_DIR / serial


def load_camera_artifacts(
    root: str | Path, camera: CameraConfig, primary: bool = False
) -> CameraArtifacts:
    """Camera `camera`'s intrinsics and hand-eye, checked against its serial and role.

    Looks in `cameras/<serial>/`; the primary camera falls back to the top-level files.
    """
    root = Path(root)
    candidates = [camera_dir(root, camera.serial)] if camera.serial else []
    if primary:
        candidates.append(root)
    for directory in candidates:
        found = {kind.name: _load(directory, kind) for kind in (CAMERA, HANDEYE)}
        if any(found.values()):
            for artifact in found.values():
                if artifact is not None:
                    _check_serial(artifact, camera)
            handeye = found[HANDEYE.name]
            if isinstance(handeye, HandEyeCalibration):
                _check_mode(handeye, camera, directory)
            return CameraArtifacts(
                camera.name, camera.serial, directory,
                found[CAMERA.name], handeye,  # type: ignore[arg-type]
            )  # fmt: skip
    return CameraArtifacts(camera.name, camera.serial, None)


def load_every_camera(root: str | Path, cameras: Sequence[CameraConfig]) -> list[CameraArtifacts]:
    """`load_camera_artifacts` for each camera (the first is the primary)."""
    return [load_camera_artifacts(root, cam, primary=i == 0) for i, cam in enumerate(cameras)]


def _load(directory: Path, kind: Kind) -> Artifact | None:
    return load_artifact(directory, kind) if (directory / kind.filename).exists() else None


def _check_serial(artifact: Artifact, camera: CameraConfig) -> None:
    made_for = artifact.envelope.device.camera_serial
    if made_for and camera.serial and made_for != camera.serial:
        raise CalibrationError(
            f"{artifact.envelope.path} was made for camera {made_for} but camera "
            f"'{camera.name}' is {camera.serial}; calibrate it with `--serial {camera.serial} "
            f"--out {CAMERAS_DIR}/{camera.serial}`"
        )


def _check_mode(handeye: HandEyeCalibration, camera: CameraConfig, directory: Path) -> None:
    wanted = HANDEYE_MODE_OF_ROLE[camera.role]
    if handeye.mode != wanted:
        raise CalibrationError(
            f"{directory / HANDEYE.filename} is {handeye.mode} but camera '{camera.name}' is a "
            f"{camera.role} camera, which needs {wanted}; re-run `edgerun calibrate handeye` "
            f"for it in {wanted} mode"
        )

"""What the runtime calls: load a calibration directory, check it belongs to these devices.

`require_joint_calibration` runs before the robot is armed when the config sets
`[calibration] dir`: without zero offsets and limits measured on *these* motors the robot
would move in the wrong frame, so the runtime refuses and says which command fixes it.
`validate_calibration` is the same check for every kind, as a report (`calibrate validate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_runtime.calibration_artifacts.artifact import Device
from edge_runtime.calibration_artifacts.schemas import (
    JOINTS,
    KINDS,
    Artifact,
    CameraCalibration,
    DepthCheck,
    HandEyeCalibration,
    Int8Dataset,
    JointCalibration,
    Kind,
    load_artifact,
)
from edge_runtime.errors import CalibrationError


@dataclass(frozen=True)
class CalibrationSet:
    """Every artifact found in one directory; a kind not calibrated yet is None."""

    root: Path
    camera: CameraCalibration | None = None
    handeye: HandEyeCalibration | None = None
    joints: JointCalibration | None = None
    depth: DepthCheck | None = None
    int8: Int8Dataset | None = None

    def present(self) -> list[str]:
        return [k.name for k in KINDS if getattr(self, _attr(k)) is not None]

    def missing(self) -> list[str]:
        return [k.name for k in KINDS if getattr(self, _attr(k)) is None]


def _attr(kind: Kind) -> str:
    return {"camera_intrinsics": "camera", "depth_check": "depth", "int8_dataset": "int8"}.get(
        kind.name, kind.name
    )


def _check_dir(root: str | Path) -> Path:
    path = Path(root).expanduser()
    if not path.is_dir():
        raise CalibrationError(
            f"calibration directory {path} does not exist; run `edgerun calibrate ...` with "
            "--out there or fix [calibration] dir"
        )
    return path


def load_calibration(root: str | Path) -> CalibrationSet:
    """Load and check every artifact present; a present but broken one raises."""
    path = _check_dir(root)
    found = {}
    for kind in KINDS:
        if (path / kind.filename).exists():
            found[_attr(kind)] = load_artifact(path, kind)
    if not found:
        names = ", ".join(k.filename for k in KINDS)
        raise CalibrationError(
            f"{path} holds no calibration artifact (expected one of {names}); run "
            "`edgerun calibrate joints --out` there first"
        )
    calib = CalibrationSet(root=path, **found)
    _check_consistent(calib)
    return calib


def _check_consistent(calib: CalibrationSet) -> None:
    """Artifacts in one directory must describe the same robot and camera."""
    if calib.joints and calib.handeye and calib.handeye.envelope.device.motor_ids:
        a, b = calib.joints.motor_ids, list(calib.handeye.envelope.device.motor_ids)
        if a != b:
            raise CalibrationError(
                f"{calib.root}: handeye.json was made with motors {b} but joints.json with {a}; "
                "re-run `edgerun calibrate handeye` on this robot"
            )
    cameras = (("camera", calib.camera), ("handeye", calib.handeye), ("depth", calib.depth))
    serials = {
        kind: art.envelope.device.camera_serial
        for kind, art in cameras
        if art is not None and art.envelope.device.camera_serial
    }
    if len(set(serials.values())) > 1:
        listed = ", ".join(f"{k}={v}" for k, v in serials.items())
        raise CalibrationError(
            f"{calib.root}: artifacts name different cameras ({listed}); re-run the calibrations "
            "of the camera now mounted"
        )


def require_joint_calibration(root: str | Path, motor_ids: Sequence[int]) -> JointCalibration:
    """The joint calibration for exactly these motors, or `CalibrationError` saying why not."""
    path = _check_dir(root)
    if not (path / JOINTS.filename).exists():
        raise CalibrationError(
            f"{path} has no {JOINTS.filename}; the robot cannot be armed without zero offsets and "
            f"limits — run `edgerun calibrate joints --out {path}`"
        )
    joints = load_artifact(path, JOINTS)
    assert isinstance(joints, JointCalibration)
    expected = list(motor_ids)
    if joints.motor_ids != expected:
        extra = sorted(set(expected) - set(joints.motor_ids))
        gone = sorted(set(joints.motor_ids) - set(expected))
        detail = []
        if extra:
            detail.append(f"{extra} not calibrated")
        if gone:
            detail.append(f"{gone} calibrated but not configured")
        if not detail:
            detail.append("same ids in a different order")
        raise CalibrationError(
            f"{path / JOINTS.filename} is for motors {joints.motor_ids} but the robot has "
            f"{expected} ({'; '.join(detail)}); re-run `edgerun calibrate joints` for this robot"
        )
    return joints


@dataclass
class ValidationReport:
    """One line per kind: ok / missing / error, plus whether the set can arm the robot."""

    root: Path
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, status, detail)

    @property
    def ok(self) -> bool:
        return not any(status == "error" for _, status, _ in self.lines)

    @property
    def complete(self) -> bool:
        return all(status == "ok" for _, status, _ in self.lines)


def validate_calibration(
    root: str | Path,
    motor_ids: Sequence[int] | None = None,
    camera_serial: str = "",
    required: Sequence[str] = (JOINTS.name,),
) -> ValidationReport:
    """Check every kind separately so one broken file does not hide the state of the others."""
    path = _check_dir(root)
    report = ValidationReport(path)
    loaded: dict[str, Artifact] = {}
    for kind in KINDS:
        file = path / kind.filename
        if not file.exists():
            needed = kind.name in required
            fix = f"run `edgerun calibrate {kind.command} --out {path}`"
            report.lines.append(
                (kind.name, "error" if needed else "missing", f"required: {fix}" if needed else fix)
            )
            continue
        try:
            artifact = load_artifact(path, kind)
        except CalibrationError as exc:
            report.lines.append((kind.name, "error", str(exc)))
            continue
        loaded[_attr(kind)] = artifact
        env = artifact.envelope
        problem = _device_mismatch(kind, env.device, motor_ids, camera_serial)
        detail = problem or f"{env.created_utc}, {_quality_summary(env.quality)}"
        report.lines.append((kind.name, "error" if problem else "ok", detail))
    if report.ok and loaded:
        try:
            _check_consistent(CalibrationSet(root=path, **loaded))  # type: ignore[arg-type]
        except CalibrationError as exc:
            report.lines.append(("consistency", "error", str(exc)))
    return report


def _device_mismatch(
    kind: Kind, device: Device, motor_ids: Sequence[int] | None, camera_serial: str
) -> str:
    if motor_ids is not None and device.motor_ids and list(device.motor_ids) != list(motor_ids):
        return (
            f"made for motors {list(device.motor_ids)} but the robot has {list(motor_ids)}; "
            f"re-run `edgerun calibrate {kind.command}`"
        )
    if camera_serial and device.camera_serial and device.camera_serial != camera_serial:
        return (
            f"made for camera {device.camera_serial} but {camera_serial} is connected; re-run "
            f"`edgerun calibrate {kind.command}`"
        )
    return ""


def _quality_summary(quality: dict[str, Any]) -> str:
    parts = []
    for key, value in list(quality.items())[:4]:
        if isinstance(value, float):
            parts.append(f"{key}={value:.3g}")
        elif isinstance(value, (int, bool, str)):
            parts.append(f"{key}={value}")
    return ", ".join(parts)

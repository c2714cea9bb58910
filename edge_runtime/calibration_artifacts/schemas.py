"""One schema per artifact kind: what `data` holds, validated into frozen dataclasses.

Each kind knows its file name, its schema version and the `edgerun calibrate` command that
makes it. Readers refuse unknown keys (a typo or a file from a newer tool) and versions they
do not understand, with one sentence saying what to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.calibration_artifacts.artifact import Envelope, read_envelope
from edge_runtime.errors import CalibrationError
from edge_runtime.fields import Section
from edge_runtime.sensors.base import Intrinsics


@dataclass(frozen=True)
class Kind:
    name: str
    filename: str
    version: int
    command: str


CAMERA = Kind("camera_intrinsics", "camera_intrinsics.json", 1, "camera")
HANDEYE = Kind("handeye", "handeye.json", 1, "handeye")
JOINTS = Kind("joints", "joints.json", 1, "joints")
DEPTH = Kind("depth_check", "depth_check.json", 1, "depth")
INT8 = Kind("int8_dataset", "int8_dataset.json", 1, "int8")
KINDS = (CAMERA, HANDEYE, JOINTS, DEPTH, INT8)
HANDEYE_MODES = ("in-hand", "to-hand")
OFFSETS_APPLIED = ("host", "servo")


@contextlib.contextmanager
def _data(env: Envelope, kind: Kind) -> Iterator[Section]:
    """The artifact's `data` table, for this schema version; unknown keys refused on exit."""
    where = str(env.path or kind.filename)
    if env.version != kind.version:
        raise CalibrationError(
            f"{where} has schema version {env.version}, this edgerun reads version "
            f"{kind.version}; re-run `edgerun calibrate {kind.command}` with this version"
        )
    sec = Section({"data": env.data}, "data", where, required=True, error=CalibrationError)
    yield sec
    sec.done()


def _matrix4(sec: Section, key: str) -> np.ndarray:
    rows = sec._get(key, None)
    if (
        not isinstance(rows, list)
        or len(rows) != 4
        or not all(isinstance(r, list) and len(r) == 4 for r in rows)
    ):
        raise sec._fail(key, rows, "must be a 4x4 list of numbers")
    matrix = np.array(rows, dtype=float)
    rotation = matrix[:3, :3]
    if (
        not np.all(np.isfinite(matrix))
        or not np.allclose(matrix[3], [0, 0, 0, 1])
        or not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6)
        or np.linalg.det(rotation) < 0
    ):
        raise sec._fail(key, "...", "must be a rigid transform (rotation + translation)")
    return matrix


@dataclass(frozen=True)
class CameraCalibration:
    """Intrinsics of one camera stream, as calibrated (not the factory values)."""

    envelope: Envelope
    intrinsics: Intrinsics
    board: dict[str, Any]

    @classmethod
    def parse(cls, env: Envelope) -> CameraCalibration:
        with _data(env, CAMERA) as sec:
            intr = Intrinsics(
                width=sec.integer("width", minimum=1),
                height=sec.integer("height", minimum=1),
                fx=sec.number("fx", positive=True),
                fy=sec.number("fy", positive=True),
                ppx=sec.number("ppx"),
                ppy=sec.number("ppy"),
                model=sec.choice("model", ("brown_conrady",)),
                coeffs=tuple(sec.numbers("coeffs", length=5)),
            )
            return cls(env, intr, sec.table("board"))


@dataclass(frozen=True)
class HandEyeCalibration:
    """Where the camera is: `T_gripper_camera` (in-hand) or `T_base_camera` (to-hand).

    Transforms map points in the child frame (camera) into the parent frame, metres.
    """

    envelope: Envelope
    mode: str
    transform: np.ndarray
    parent_frame: str
    method: str
    robot_model: str
    ee_site: str

    @classmethod
    def parse(cls, env: Envelope) -> HandEyeCalibration:
        with _data(env, HANDEYE) as sec:
            return cls(
                envelope=env,
                mode=sec.choice("mode", HANDEYE_MODES),
                transform=_matrix4(sec, "transform"),
                parent_frame=sec.string("parent_frame"),
                method=sec.string("method"),
                robot_model=sec.string("robot_model"),
                ee_site=sec.string("ee_site"),
            )


@dataclass(frozen=True)
class JointLimits:
    motor_id: int
    zero_offset_rad: float
    min_rad: float
    max_rad: float


@dataclass(frozen=True)
class JointCalibration:
    """Zero offsets and limits per motor id.

    With `offsets_applied = "host"` the runtime subtracts `zero_offset_rad` from every raw
    reading (and adds it to every goal); with `"servo"` the offsets live in the servos' homing
    offset registers and the host applies nothing. Limits are in the calibrated frame.
    """

    envelope: Envelope
    offsets_applied: str
    joints: tuple[JointLimits, ...]

    @property
    def motor_ids(self) -> list[int]:
        return [j.motor_id for j in self.joints]

    def host_offsets_rad(self) -> np.ndarray:
        if self.offsets_applied == "servo":
            return np.zeros(len(self.joints))
        return np.array([j.zero_offset_rad for j in self.joints])

    def limits_rad(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([j.min_rad for j in self.joints]),
            np.array([j.max_rad for j in self.joints]),
        )

    @classmethod
    def parse(cls, env: Envelope) -> JointCalibration:
        with _data(env, JOINTS) as sec:
            where = sec.where
            applied = sec.choice("offsets_applied", OFFSETS_APPLIED)
            entries = sec._get("joints", None)
        if not isinstance(entries, list) or not entries:
            raise CalibrationError(f"{where}: data.joints must be a non-empty list of tables")
        joints = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise CalibrationError(f"{where}: data.joints[{i}] must be a table")
            js = Section(
                {"j": entry}, "j", where, label=f"data.joints[{i}]", error=CalibrationError
            )
            joint = JointLimits(
                motor_id=js.integer("id", minimum=0, maximum=252),
                zero_offset_rad=js.number("zero_offset_rad"),
                min_rad=js.number("min_rad"),
                max_rad=js.number("max_rad"),
            )
            js.done()
            if not joint.min_rad < joint.max_rad:
                raise CalibrationError(
                    f"{where}: motor {joint.motor_id} has min_rad >= max_rad; re-run "
                    "`edgerun calibrate joints`"
                )
            joints.append(joint)
        ids = [j.motor_id for j in joints]
        if len(set(ids)) != len(ids) or tuple(ids) != env.device.motor_ids:
            raise CalibrationError(
                f"{where}: joint ids {ids} must be unique and equal device.motor_ids "
                f"{list(env.device.motor_ids)}; re-run `edgerun calibrate joints`"
            )
        return cls(env, applied, tuple(joints))


@dataclass(frozen=True)
class DepthCheck:
    """How far the depth stream is from the board plane seen by the color stream."""

    envelope: Envelope
    distance_m: float
    bias_mm: float
    rms_mm: float
    plane_fit_rms_mm: float
    tolerance_pct: float
    needs_self_calibration: bool

    @classmethod
    def parse(cls, env: Envelope) -> DepthCheck:
        with _data(env, DEPTH) as sec:
            return cls(
                envelope=env,
                distance_m=sec.number("distance_m", positive=True),
                bias_mm=sec.number("bias_mm"),
                rms_mm=sec.number("rms_mm", minimum=0.0),
                plane_fit_rms_mm=sec.number("plane_fit_rms_mm", minimum=0.0),
                tolerance_pct=sec.number("tolerance_pct", positive=True),
                needs_self_calibration=sec.boolean("needs_self_calibration"),
            )


@dataclass(frozen=True)
class Int8Dataset:
    """Observations captured for INT8 calibration; arrays live in the hashed `.npz` beside it."""

    envelope: Envelope
    file: str
    count: int
    arrays: dict[str, Any]
    observations: str = ""  # preprocessed tensors keyed by observation source, if written

    @classmethod
    def parse(cls, env: Envelope) -> Int8Dataset:
        with _data(env, INT8) as sec:
            value = cls(
                envelope=env,
                file=sec.string("file"),
                count=sec.integer("count", minimum=1),
                arrays=sec.table("arrays"),
                observations=sec.string("observations", default=""),
            )
        for name in (value.file, value.observations):
            if name and name not in env.files:
                raise CalibrationError(
                    f"{env.path}: {name} is not hashed in 'files'; re-run `edgerun calibrate int8`"
                )
        return value


Artifact = CameraCalibration | HandEyeCalibration | JointCalibration | DepthCheck | Int8Dataset

_PARSERS: dict[str, Callable[[Envelope], Artifact]] = {
    CAMERA.name: CameraCalibration.parse,
    HANDEYE.name: HandEyeCalibration.parse,
    JOINTS.name: JointCalibration.parse,
    DEPTH.name: DepthCheck.parse,
    INT8.name: Int8Dataset.parse,
}


def load_artifact(root: Path, kind: Kind) -> Artifact:
    """`root/kind.filename` read, hash-checked and parsed by its kind's schema."""
    env = read_envelope(root / kind.filename, kind.name, kind.command)
    return _PARSERS[kind.name](env)

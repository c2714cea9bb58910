"""Calibration artifacts as the runtime reads them: schemas, integrity checks, the reader.

No OpenCV or MuJoCo here: the tools that *make* artifacts live in the `calibration` package.
"""

from __future__ import annotations

from edge_runtime.calibration_artifacts.artifact import Device, build_document, write_document
from edge_runtime.calibration_artifacts.offsets import CalibratedBus
from edge_runtime.calibration_artifacts.reader import (
    CalibrationSet,
    ValidationReport,
    load_calibration,
    require_joint_calibration,
    validate_calibration,
)
from edge_runtime.calibration_artifacts.schemas import (
    CAMERA,
    DEPTH,
    HANDEYE,
    INT8,
    JOINTS,
    KINDS,
    CameraCalibration,
    DepthCheck,
    HandEyeCalibration,
    Int8Dataset,
    JointCalibration,
    JointLimits,
    load_artifact,
)

__all__ = [
    "CAMERA",
    "DEPTH",
    "HANDEYE",
    "INT8",
    "JOINTS",
    "KINDS",
    "CalibratedBus",
    "CalibrationSet",
    "CameraCalibration",
    "DepthCheck",
    "Device",
    "HandEyeCalibration",
    "Int8Dataset",
    "JointCalibration",
    "JointLimits",
    "ValidationReport",
    "build_document",
    "load_artifact",
    "load_calibration",
    "require_joint_calibration",
    "validate_calibration",
    "write_document",
]

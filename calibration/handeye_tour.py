"""The hand-eye procedure as library steps, shared by `calibrate handeye` and the console.

Plan (the robot model with the measured joint limits, proposed safe poses as a short tour
from where the arm stands), drive (visit each pose, capture, return to the start), solve
(detect, FK, AX=XB, write the artifact and its residual plot). The terminal and the console
page call the very same steps, so the console moves the robot under the CLI's own checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calibration.board import BoardSpec
from calibration.handeye import HandEyeResult
from calibration.kinematics import RobotModel
from calibration.motion import Mover
from calibration.session import Robot, host_offsets
from edge_runtime.calibration_artifacts import HANDEYE, write_document
from edge_runtime.errors import CalibrationError

PLOT = "handeye_residuals.png"


@dataclass
class TourPlan:
    model: RobotModel
    mover: Mover
    start_rad: np.ndarray  # where the arm stood: the tour ends there
    poses_rad: list[np.ndarray]  # motor order


@dataclass(frozen=True)
class HandEyeOutcome:
    result: HandEyeResult
    skipped: list[str]  # images not used, and why
    document: dict[str, Any]
    path: Path  # the artifact
    plot: Path


def robot_model(mjcf: str | None, ee_site: str, robot: Robot | None) -> RobotModel:
    """The robot's kinematic model: `--mjcf`, or the simulated arm's own."""
    path = mjcf or (robot.mjcf if robot is not None else None)
    if path is None:
        raise CalibrationError("pass --mjcf with the robot's MJCF (its kinematic model)")
    names = robot.config.joint_names if robot is not None else None
    return RobotModel(path, ee_site=ee_site, joint_names=names)


def plan_tour(
    robot: Robot,
    out: Path,
    count: int,
    seed: int,
    mode: str,
    mjcf: str | None = None,
    ee_site: str = "ee_site",
    view_camera: str | None = None,
) -> TourPlan:
    """Safe, diverse poses inside the model's and the measured (`joints.json`) limits."""
    from calibration.poses import propose_poses

    assert robot.bus is not None
    model = robot_model(mjcf, ee_site, robot)
    guess = None
    if view_camera or robot.rig is not None:
        from edge_runtime.sim.world import CAMERA_NAME

        guess = model.camera_pose(view_camera or CAMERA_NAME)
    offsets, calibrated = host_offsets(out, robot.config.motor_ids)
    if calibrated:  # stay inside the measured limits as well as the model's
        from edge_runtime.calibration_artifacts import require_joint_calibration

        low, high = require_joint_calibration(out, robot.config.motor_ids).limits_rad()
        model.lower = np.maximum(model.lower, low)
        model.upper = np.minimum(model.upper, high)
    mover = Mover(robot.bus, offsets)
    start, _ = mover.read()
    rng = np.random.default_rng(seed)
    poses = propose_poses(model, count, rng, mode, base_camera=guess, start=start)
    return TourPlan(model, mover, start, poses)


def drive_tour(
    robot: Robot,
    plan: TourPlan,
    capture_dir: Path,
    mode: str,
    on_pose: Callable[[int, int], None] | None = None,
) -> None:
    """Torque on, visit every pose capturing a frame at each, then back to the start."""
    from calibration.handeye_capture import drive_and_capture

    assert robot.bus is not None
    assert robot.camera is not None
    robot.bus.enable()
    drive_and_capture(plan.mover, robot.camera, plan.poses_rad, capture_dir, mode, on_pose=on_pose)
    plan.mover.move_to(plan.start_rad)


def solve_and_write(
    capture_dir: Path,
    model: RobotModel,
    spec: BoardSpec,
    camera: tuple[np.ndarray, np.ndarray],
    out: Path,
    mode: str,
    ee_site: str = "ee_site",
) -> HandEyeOutcome:
    """Solve a capture directory and write `handeye.json` and its residual plot into `out`."""
    from calibration.handeye_capture import solve_capture
    from calibration.plots import handeye_png

    matrix, coeffs = camera
    result, skipped, motor_ids = solve_capture(capture_dir, model, spec, matrix, coeffs, mode)
    document = result.document(model.name, ee_site, motor_ids)
    out.mkdir(parents=True, exist_ok=True)
    plot = handeye_png(result, out / PLOT)
    path = write_document(out / HANDEYE.filename, document)
    return HandEyeOutcome(result, skipped, document, path, plot)

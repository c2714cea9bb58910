"""Handlers of `calibrate handeye`, `calibrate joints` and `calibrate int8` (robot in the loop)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from calibration.session import (
    Robot,
    board_from_args,
    camera_model,
    confirm,
    host_offsets,
    open_robot,
)
from edge_runtime.calibration_artifacts import HANDEYE, INT8, JOINTS, write_document
from edge_runtime.errors import CalibrationError

if TYPE_CHECKING:
    from calibration.kinematics import RobotModel

console = Console()


def _robot_model(args: argparse.Namespace, robot: Robot | None) -> RobotModel:
    from calibration.kinematics import RobotModel

    mjcf = args.mjcf or (robot.mjcf if robot is not None else None)
    if mjcf is None:
        raise CalibrationError("pass --mjcf with the robot's MJCF (its kinematic model)")
    names = robot.config.joint_names if robot is not None else None
    return RobotModel(mjcf, ee_site=args.ee_site, joint_names=names)


def handeye(args: argparse.Namespace) -> int:
    from calibration.handeye_capture import drive_and_capture, solve_capture
    from calibration.motion import Mover
    from calibration.plots import handeye_png
    from calibration.poses import propose_poses

    spec = board_from_args(args)
    out = Path(args.out)
    matrix, coeffs = camera_model(out, args.intrinsics)
    capture_dir = Path(args.recorded) if args.recorded else out / "handeye_capture"
    if args.config:
        with open_robot(args.config) as robot:
            assert robot.bus is not None
            assert robot.camera is not None
            model = _robot_model(args, robot)
            guess = None
            if args.view_camera or robot.rig is not None:
                from edge_runtime.sim.world import CAMERA_NAME

                guess = model.camera_pose(args.view_camera or CAMERA_NAME)
            offsets, calibrated = host_offsets(out, robot.config.motor_ids)
            if calibrated:  # stay inside the measured limits as well as the model's
                from edge_runtime.calibration_artifacts import require_joint_calibration

                low, high = require_joint_calibration(out, robot.config.motor_ids).limits_rad()
                model.lower = np.maximum(model.lower, low)
                model.upper = np.minimum(model.upper, high)
            mover = Mover(robot.bus, offsets)
            start, _ = mover.read()
            poses = propose_poses(
                model,
                args.poses,
                np.random.default_rng(args.seed),
                args.mode,
                base_camera=guess,
                start=start,
            )
            table = Table(title=f"{len(poses)} proposed poses (rad, motor order)")
            for name in robot.config.joint_names:
                table.add_column(name, justify="right")
            for q in poses:
                table.add_row(*(f"{v:+.3f}" for v in q))
            console.print(table)
            if args.propose_only:
                return 0
            confirm(args, "the robot will move to these poses; clear the workspace")
            robot.bus.enable()
            drive_and_capture(
                mover,
                robot.camera,
                poses,
                capture_dir,
                args.mode,
                on_pose=lambda i, n: console.print(f"pose {i + 1}/{n}"),
            )
            mover.move_to(start)
    else:
        model = _robot_model(args, None)
    result, skipped, motor_ids = solve_capture(
        capture_dir,
        model,
        spec,
        matrix,
        coeffs,
        args.mode,
    )
    for line in skipped:
        console.print(f"skipped {line}", style="yellow")
    document = result.document(
        model.name,
        args.ee_site,
        motor_ids,
    )
    out.mkdir(parents=True, exist_ok=True)
    plot = handeye_png(result, out / "handeye_residuals.png")
    path = write_document(out / HANDEYE.filename, document)
    table = Table(title=f"hand-eye ({result.mode}), kept {result.method}")
    for column in ("method", "translation mm", "rotation deg"):
        table.add_column(column, justify="right")
    for name, score in result.methods.items():
        mark = " *" if name == result.method else ""
        table.add_row(name + mark, f"{score['translation_mm']:.2f}", f"{score['rotation_deg']:.3f}")
    console.print(table)
    t = result.transform[:3, 3]
    console.print(
        f"camera at ({t[0]:+.4f}, {t[1]:+.4f}, {t[2]:+.4f}) m in {document['data']['parent_frame']}"
    )
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="bold yellow")
    console.print(f"wrote {path} and {plot}")
    return 0


def joints(args: argparse.Namespace) -> int:
    from calibration.joints import (
        JointReadings,
        RangeRecorder,
        compute_limits,
        joints_document,
        read_poses_file,
        verify_joints,
    )
    from calibration.motion import Mover

    if args.non_interactive and not args.poses:
        raise CalibrationError("--non-interactive needs --poses FILE with the joint readings")
    out = Path(args.out)
    with open_robot(args.config, camera=False) as robot:
        bus = robot.bus
        assert bus is not None
        ids = list(bus.motor_ids)
        mover = Mover(bus)
        if args.poses:
            readings = read_poses_file(Path(args.poses))
            if readings.motor_ids != ids:
                raise CalibrationError(
                    f"{args.poses} lists motors {readings.motor_ids} but the robot has {ids}; "
                    "fix motor_ids in the poses file"
                )
            if readings.zero_rad is None:
                zero, _ = mover.read()
                console.print("zero read from the motors (robot in its zero jig)")
                readings = JointReadings(ids, zero, readings.min_rad, readings.max_rad)
        else:
            bus.disable()
            confirm(args, "torque is off: put every joint on its zero mark")
            zero, _ = mover.read()
            recorder = RangeRecorder(bus)
            recorder.start()
            try:
                confirm(args, "now move each joint slowly to both of its stops")
            finally:
                low, high = recorder.stop()
            readings = JointReadings(ids, zero, low, high)
        entries = compute_limits(readings, args.margin)
        verify = None
        if not args.no_verify:
            confirm(args, "verify: the robot will move to zero and to 25% of each range")
            mover.offsets = np.array([e["zero_offset_rad"] for e in entries])
            bus.enable()
            verify = verify_joints(mover, entries)
    path = write_document(out / JOINTS.filename, joints_document(entries, args.margin, verify))
    table = Table(title="joint calibration (offsets kept host-side)")
    for column in ("motor", "zero offset rad", "min rad", "max rad"):
        table.add_column(column, justify="right")
    for e in entries:
        table.add_row(
            str(e["id"]),
            f"{e['zero_offset_rad']:+.4f}",
            f"{e['min_rad']:+.3f}",
            f"{e['max_rad']:+.3f}",
        )
    console.print(table)
    if verify:
        console.print(f"verified: worst read-back error {verify['verify_max_error_rad']:.4f} rad")
    else:
        console.print("not verified (--no-verify)", style="yellow")
    console.print(f"wrote {path}")
    return 0


def int8(args: argparse.Namespace) -> int:
    from calibration.int8_capture import capture, write_dataset

    out = Path(args.out)
    preprocessing = None
    if args.preprocess:  # checked before anything is captured
        from calibration.int8_observations import parse_preprocessing

        preprocessing = parse_preprocessing(
            args.preprocess, args.depth_max_m, args.rgb_mean, args.rgb_std
        )
    with open_robot(args.config) as robot:
        assert robot.bus is not None
        assert robot.camera is not None
        offsets, calibrated = host_offsets(out, robot.config.motor_ids)
        confirm(
            args,
            f"capturing {args.count} observations every {args.interval:g} s; move the arm (torque "
            "off) and vary the scene while it runs",
        )
        frames, states = capture(
            robot.camera,
            robot.bus,
            args.count,
            args.interval,
            offsets,
            on_sample=lambda k, n: console.print(f"{k}/{n}") if k % 25 == 0 or k == n else None,
        )
    npz, document = write_dataset(
        out, frames, states, robot.config.motor_ids, calibrated, args.serial, preprocessing
    )
    path = write_document(out / INT8.filename, document)
    quality = document["quality"]
    console.print(
        f"{quality['count']} observations; joint range (rad) {quality['joint_range_rad']}; "
        f"still frames {quality['still_frame_fraction']:.0%}"
    )
    for warning in quality["warnings"]:
        console.print(f"warning: {warning}", style="bold yellow")
    if document["data"]["observations"]:
        console.print(f"quantizer input: {out / document['data']['observations']}")
    console.print(f"wrote {npz} and {path}")
    return 0

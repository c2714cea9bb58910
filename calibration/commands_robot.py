"""Handlers of `calibrate handeye`, `calibrate joints` and `calibrate int8` (robot in the loop)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from calibration.session import (
    artifact_serial,
    board_from_args,
    camera_model,
    confirm,
    host_offsets,
    open_robot,
)
from edge_runtime.calibration_artifacts import INT8, JOINTS, write_document
from edge_runtime.errors import CalibrationError

console = Console()


def handeye(args: argparse.Namespace) -> int:
    from calibration.handeye_tour import drive_tour, plan_tour, robot_model, solve_and_write

    spec = board_from_args(args)
    out = Path(args.out)
    camera = camera_model(out, args.intrinsics)
    capture_dir = Path(args.recorded) if args.recorded else out / "handeye_capture"
    if args.config:
        with open_robot(args.config, camera_name=args.camera) as robot:
            assert robot.bus is not None
            assert robot.camera is not None
            plan = plan_tour(
                robot, out, args.poses, args.seed, args.mode, args.mjcf, args.ee_site,
                args.view_camera,
            )  # fmt: skip
            table = Table(title=f"{len(plan.poses_rad)} proposed poses (rad, motor order)")
            for name in robot.config.joint_names:
                table.add_column(name, justify="right")
            for q in plan.poses_rad:
                table.add_row(*(f"{v:+.3f}" for v in q))
            console.print(table)
            if args.propose_only:
                return 0
            confirm(args, "the robot will move to these poses; clear the workspace")
            drive_tour(
                robot, plan, capture_dir, args.mode,
                on_pose=lambda i, n: console.print(f"pose {i + 1}/{n}"),
            )  # fmt: skip
            model = plan.model
    else:
        model = robot_model(args.mjcf, args.ee_site, None)
    outcome = solve_and_write(capture_dir, model, spec, camera, out, args.mode, args.ee_site)
    result, document = outcome.result, outcome.document
    for line in outcome.skipped:
        console.print(f"skipped {line}", style="yellow")
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
    console.print(f"wrote {outcome.path} and {outcome.plot}")
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
    with open_robot(args.config, camera_name=args.camera) as robot:
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
    serial = artifact_serial(args.serial, robot)
    npz, document = write_dataset(
        out, frames, states, robot.config.motor_ids, calibrated, serial, preprocessing,
        args.camera,
    )  # fmt: skip
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

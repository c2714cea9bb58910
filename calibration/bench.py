"""`edgerun bench calibration`: accuracy against known ground truth, and how long it takes.

Camera: 30 (or --views) board poses through a known distorted camera; corners projected with
0.2 px Gaussian noise (the stated target), and the same poses rendered as images and run
through the real detector. Hand-eye: a to-hand and an in-hand scene with 0.5 mm / 0.05 deg
noise on both robot and board poses, plus the simulated arm: poses proposed for it by the
pose planner, robot poses from MuJoCo FK of its MJCF, truth = the MJCF camera.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from calibration.board import BoardSpec, detect
from calibration.geometry import invert, make_transform, perturb, transform_error
from calibration.handeye import solve_handeye
from calibration.intrinsics import calibrate_intrinsics
from calibration.synthetic import (
    SyntheticCamera,
    handeye_scene,
    project_view,
    random_board_poses,
    render_view,
)

TARGETS = {
    "focal_error_pct": 0.5,
    "rms_px": 0.3,
    "translation_mm": 2.0,
    "rotation_deg": 0.2,
    "seconds": 30.0,
}
CORNER_NOISE_PX = 0.2


def _focal_error(matrix: np.ndarray, camera: SyntheticCamera) -> float:
    return float(
        max(abs(matrix[0, 0] - camera.fx) / camera.fx, abs(matrix[1, 1] - camera.fy) / camera.fy)
        * 100
    )


def bench_camera(views: int, seed: int, images: bool) -> dict[str, Any]:
    spec, camera = BoardSpec(), SyntheticCamera()
    rng = np.random.default_rng(seed)
    poses = random_board_poses(rng, views, spec, camera)
    started = time.perf_counter()
    observed = [
        (f"v{i}", project_view(spec, camera, p, CORNER_NOISE_PX, rng)) for i, p in enumerate(poses)
    ]
    result = calibrate_intrinsics(observed, (camera.width, camera.height))
    out: dict[str, Any] = {
        "focal_error_pct": _focal_error(result.matrix, camera),
        "rms_px": result.rms_px,
        "principal_point_error_px": float(
            np.hypot(result.matrix[0, 2] - camera.cx, result.matrix[1, 2] - camera.cy)
        ),
        "corner_noise_px": CORNER_NOISE_PX,
        "views": views,
        "seconds": time.perf_counter() - started,
    }
    if images:
        started = time.perf_counter()
        frames = [render_view(spec, camera, p, rng) for p in poses]
        rendered_s = time.perf_counter() - started
        started = time.perf_counter()
        detected = [(f"v{i}", detect(image, spec)) for i, image in enumerate(frames)]
        result = calibrate_intrinsics(detected, (camera.width, camera.height))
        out["images"] = {
            "focal_error_pct": _focal_error(result.matrix, camera),
            "rms_px": result.rms_px,
            "resolution": f"{camera.width}x{camera.height}",
            "render_seconds": rendered_s,  # making the synthetic data, not calibrating
            "seconds": time.perf_counter() - started,  # detection + calibrateCamera
        }
    return out


def _errors(result: Any, truth: np.ndarray) -> dict[str, Any]:
    t_mm, r_deg = transform_error(result.transform, truth)
    return {
        "translation_mm": t_mm,
        "rotation_deg": r_deg,
        "method": result.method,
        "residual_mm": result.translation_mm,
        "residual_deg": result.rotation_deg,
    }


def bench_handeye(poses: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("to-hand", "in-hand"):
        scene = handeye_scene(np.random.default_rng(seed), poses, mode)
        started = time.perf_counter()
        result = solve_handeye(scene.base_gripper, scene.camera_board, mode)
        out[mode] = {**_errors(result, scene.truth), "seconds": time.perf_counter() - started}
    return out


def bench_sim_arm(poses: int, seed: int) -> dict[str, Any]:
    """The simulated arm's MJCF: proposed poses, FK by MuJoCo, truth = its workspace camera."""
    from calibration.kinematics import RobotModel
    from calibration.poses import propose_poses
    from edge_runtime.sim.world import CAMERA_NAME, JOINT_NAMES, MJCF_PATH

    rng = np.random.default_rng(seed)
    robot = RobotModel(MJCF_PATH, joint_names=list(JOINT_NAMES))
    truth = robot.camera_pose(CAMERA_NAME)
    started = time.perf_counter()
    joints = propose_poses(robot, poses, rng, "to-hand", base_camera=truth)
    board_on_tool = make_transform(np.diag([1.0, -1.0, -1.0]), [-0.05, 0.035, 0.01])
    grippers, boards = [], []
    for q in joints:
        tool = robot.fk(q)
        board = invert(truth) @ tool @ board_on_tool
        grippers.append(perturb(tool, rng, 0.0005, 0.05))
        boards.append(perturb(board, rng, 0.0005, 0.05))
    result = solve_handeye(grippers, boards, "to-hand")
    return {
        **_errors(result, truth),
        "poses": poses,
        "max_rotation_deg": result.diversity.max_angle_deg,
        "axis_spread": result.diversity.axis_spread,
        "warnings": result.warnings,
        "seconds": time.perf_counter() - started,
    }


def run_bench(views: int = 30, seed: int = 0, images: bool = True) -> dict[str, Any]:
    """`seconds` is the time spent calibrating (detection, intrinsics, hand-eye solves);
    `total_seconds` adds making the synthetic data (rendering dominates it)."""
    started = time.perf_counter()
    camera = bench_camera(views, seed, images)
    handeye = bench_handeye(views, seed)
    sim_arm = bench_sim_arm(min(views, 20), seed)
    calibrating = camera.get("images", camera)["seconds"] + sum(
        handeye[mode]["seconds"] for mode in ("to-hand", "in-hand")
    )
    return {
        "camera": camera,
        "handeye": {
            "translation_mm": handeye["to-hand"]["translation_mm"],
            "rotation_deg": handeye["to-hand"]["rotation_deg"],
            **handeye,
            "sim_arm": sim_arm,
        },
        "seconds": calibrating,
        "total_seconds": time.perf_counter() - started,
        "targets": TARGETS,
    }


def bench(args: argparse.Namespace) -> int:
    console = Console()
    console.print(f"calibrating from {args.views} synthetic views (seed {args.seed}) ...")
    report = run_bench(args.views, args.seed, images=not args.no_images)
    table = Table(title="calibration accuracy vs ground truth")
    for column in ("case", "metric", "value", "target"):
        table.add_column(column, justify="right")
    cam = report["camera"]
    table.add_row(
        "intrinsics, 0.2 px noise", "focal error %", f"{cam['focal_error_pct']:.4f}", "≤ 0.5"
    )
    table.add_row("", "RMS px", f"{cam['rms_px']:.3f}", "≤ 0.3")
    if "images" in cam:
        img = cam["images"]
        table.add_row(
            f"intrinsics, rendered {img['resolution']}",
            "focal error %",
            f"{img['focal_error_pct']:.4f}",
            "",
        )
        table.add_row("", "RMS px", f"{img['rms_px']:.3f}", "")
    he = report["handeye"]
    for case in ("to-hand", "in-hand", "sim_arm"):
        row = he[case]
        label = f"hand-eye {case} ({row['method']})"
        table.add_row(label, "translation mm", f"{row['translation_mm']:.3f}", "≤ 2")
        table.add_row("", "rotation deg", f"{row['rotation_deg']:.4f}", "≤ 0.2")
    table.add_row(f"calibrating {args.views} views", "seconds", f"{report['seconds']:.1f}", "≤ 30")
    table.add_row("incl. rendering the views", "seconds", f"{report['total_seconds']:.1f}", "")
    console.print(table)
    for warning in he["sim_arm"]["warnings"]:
        console.print(f"sim arm: {warning}", style="yellow")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"wrote {path}")
    return 0

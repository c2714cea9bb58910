"""Handlers of `calibrate board`, `calibrate camera` and `calibrate depth`."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from calibration.board import Detection, write_pdf, write_png
from calibration.intrinsics import COVERAGE_GRID, calibrate_intrinsics, coverage_grid
from calibration.session import (
    artifact_serial,
    board_from_args,
    camera_model,
    confirm,
    open_robot,
)
from edge_runtime.calibration_artifacts import CAMERA, DEPTH, write_document
from edge_runtime.errors import CalibrationError

console = Console()


def board(args: argparse.Namespace) -> int:
    spec = board_from_args(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = write_png(spec, out / "board.png", dpi=args.dpi)
    pdf = write_pdf(spec, out / "board.pdf", page=args.page)
    spec.save(out / "board.json")
    console.print(f"board: {spec.describe()}")
    if spec.legacy_matters:
        layout = "legacy (pre-4.6)" if spec.legacy else "current (4.6+)"
        console.print(f"even row count: printed in the {layout} layout; board.json records it")
    console.print(f"wrote {pdf} (print at 100% / actual size), {png}, {out / 'board.json'}")
    console.print("check the printed 100 mm bar with a ruler before calibrating")
    return 0


def _coverage_text(points: list[np.ndarray], size: tuple[int, int]) -> str:
    grid = coverage_grid(points, *size)
    return "\n".join("".join("#" if cell else "." for cell in row) for row in grid)


def camera(args: argparse.Namespace) -> int:
    from calibration.plots import intrinsics_png
    from calibration.views import collect_views, load_image_views

    spec = board_from_args(args)
    out = Path(args.out)
    factory = None
    serial = args.serial
    if args.images:
        views, size = load_image_views(Path(args.images), spec)
    else:
        with open_robot(args.config, motors=False, camera_name=args.camera) as robot:
            assert robot.camera is not None
            serial = artifact_serial(args.serial, robot)
            confirm(args, f"hold the {spec.describe()} board in view; move and tilt it slowly")
            seen: list[np.ndarray] = []

            def progress(kept: int, det: Detection, size: tuple[int, int]) -> None:
                seen.append(det.image_points)
                console.print(f"view {kept}/{args.views}: {det.count} corners")
                console.print(_coverage_text(seen, size), style="dim")

            views, size, factory = collect_views(
                robot.camera, spec, args.views, out / "camera_views", args.timeout, on_view=progress
            )
    result = calibrate_intrinsics(views, size)
    if factory is not None:
        result = dataclasses.replace(result, factory=result.compare_factory(factory))
    out.mkdir(parents=True, exist_ok=True)
    plot = intrinsics_png(result, out / "camera_errors.png")
    path = write_document(out / CAMERA.filename, result.document(spec, serial))
    table = Table(title=f"camera intrinsics ({size[0]}x{size[1]})")
    for column in ("fx", "fy", "ppx", "ppy", "RMS px", "views used", "rejected", "coverage"):
        table.add_column(column, justify="right")
    k = result.matrix
    table.add_row(
        f"{k[0, 0]:.2f}",
        f"{k[1, 1]:.2f}",
        f"{k[0, 2]:.2f}",
        f"{k[1, 2]:.2f}",
        f"{result.rms_px:.3f}",
        str(len(result.used)),
        str(len(result.rejected)),
        f"{100 * result.coverage:.0f}%",
    )
    console.print(table)
    for view in result.rejected:
        console.print(f"rejected {view.name}: {view.reason}", style="yellow")
    for key, value in result.factory.items():
        console.print(f"{key}: {value:+.3f}")
    if result.coverage < 0.5:
        cols, rows = COVERAGE_GRID
        console.print(
            f"corners reached only {100 * result.coverage:.0f}% of the {cols}x{rows} image cells; "
            "add views near the image edges and corners",
            style="yellow",
        )
    console.print(f"wrote {path} and {plot}")
    return 0


def depth(args: argparse.Namespace) -> int:
    from calibration.depth import SELF_CAL_ADVICE, check_depth

    spec = board_from_args(args)
    out = Path(args.out)
    with open_robot(args.config, motors=False, camera_name=args.camera) as robot:
        assert robot.camera is not None
        serial = artifact_serial(args.serial, robot)
        confirm(args, "hold the board flat and still, 0.4-1.0 m in front of the camera")
        frames, version = [], -1
        while len(frames) < args.frames:
            frame, newest = robot.camera.wait_frame(version, timeout_s=2.0)
            if frame is None or newest == version:
                raise CalibrationError(f"{robot.camera.name} stopped delivering frames")
            version = newest
            frames.append(frame)
    if (out / CAMERA.filename).exists():
        matrix, coeffs = camera_model(out)
    else:
        console.print("no camera_intrinsics.json: using the camera's factory intrinsics")
        matrix, coeffs = frames[0].intrinsics.matrix(), np.array(frames[0].intrinsics.coeffs)
    result = check_depth(frames, spec, matrix, coeffs, args.tolerance_pct)
    path = write_document(out / DEPTH.filename, result.document(serial))
    console.print(
        f"board at {result.distance_m:.3f} m: depth bias {result.bias_mm:+.1f} mm, RMS "
        f"{result.rms_mm:.1f} mm, plane-fit noise {result.plane_fit_rms_mm:.1f} mm "
        f"(tolerance {result.tolerance_pct:g}% = "
        f"{result.tolerance_pct * result.distance_m * 10:.1f} mm)"
    )
    if result.needs_self_calibration:
        console.print(f"depth is out of tolerance: {SELF_CAL_ADVICE}", style="bold yellow")
    console.print(f"wrote {path}")
    return 0

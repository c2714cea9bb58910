"""What every live calibration command shares: the robot's ports from its config, the
calibration directory's existing artifacts, the board definition, and console output.

With `[sim] enabled = true` the simulated arm is started (servos on a pty behind the real
Dynamixel driver, the MuJoCo camera), so every command runs end to end without hardware.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calibration.board import BoardSpec
from edge_runtime.calibration_artifacts import CAMERA, JOINTS, CameraCalibration, load_artifact
from edge_runtime.config import RobotConfig, load_config
from edge_runtime.errors import CalibrationError
from edge_runtime.sensors.base import Camera
from firmware_bridge.base import MotorBus


@dataclass
class Robot:
    config: RobotConfig
    camera: Camera | None
    bus: MotorBus | None
    rig: Any = None  # the SimRig when simulated

    @property
    def mjcf(self) -> Path | None:
        if self.rig is None:
            return None
        from edge_runtime.sim.world import MJCF_PATH

        return MJCF_PATH


@contextlib.contextmanager
def open_robot(
    config_path: str, camera: bool = True, motors: bool = True, camera_name: str = ""
) -> Iterator[Robot]:
    """Camera started and bus opened (torque off on exit, whatever happens).

    `camera_name` picks one of a `[[cameras]]` config's cameras (`--camera`); "" the primary.
    """
    from edge_runtime.robot import open_camera, open_motor_bus

    config = only_camera(load_config(config_path), camera_name)
    with contextlib.ExitStack() as stack:
        rig = None
        port = None
        if config.sim.enabled:
            from edge_runtime.sim.rig import SimRig

            rig = stack.enter_context(SimRig(config))
            port = rig.port
        cam = None
        if camera:
            cam = rig.camera if rig is not None else open_camera(config)
            cam.start()
            stack.callback(cam.stop)
        bus = None
        if motors:
            bus_ports = rig.bus_ports if rig is not None else None
            bus = open_motor_bus(config, port=port, bus_ports=bus_ports)
            stack.callback(bus.close)
        yield Robot(config, cam, bus, rig)


def only_camera(config: RobotConfig, name: str) -> RobotConfig:
    """The config with camera `name` alone, as its primary ("": unchanged).

    A calibration looks through one camera and its artifacts go to that camera's serial, so
    the session opens that camera by itself, as it would the single camera of a `[camera]`
    config (the simulator renders it by its role: a wrist camera from the hand).
    """
    if not name:
        return config
    cameras = {c.name: c for c in config.camera_configs}
    if name not in cameras:
        raise CalibrationError(
            f"{config.path.name} has no camera '{name}'; its cameras are "
            f"{', '.join(cameras)} — pass --camera with one of those names"
        )
    sync = dataclasses.replace(config.camera_sync, primary=name, hardware=False)
    chosen = cameras[name]
    return dataclasses.replace(config, camera=chosen, cameras=(chosen,), camera_sync=sync)


def board_from_args(args: argparse.Namespace) -> BoardSpec:
    """`--board board.json` wins; otherwise the individual flags (defaults: 7x5, 35/26 mm)."""
    if getattr(args, "board", None):
        spec = BoardSpec.load(Path(args.board))
        if getattr(args, "legacy", False) and not spec.legacy:
            spec = BoardSpec(**{**spec.to_json(), "legacy": True})
        return spec
    try:
        cols, rows = (int(v) for v in args.squares.lower().split("x"))
    except ValueError as exc:
        raise CalibrationError(f"--squares {args.squares!r} must look like 7x5") from exc
    return BoardSpec(
        squares_x=cols,
        squares_y=rows,
        square_m=args.square_mm / 1000,
        marker_m=args.marker_mm / 1000,
        dictionary=args.dictionary,
        legacy=bool(args.legacy),
    )


def add_board_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--board", metavar="JSON", help="board.json from `calibrate board`")
    parser.add_argument("--squares", default="7x5", help="squares across x down (default 7x5)")
    parser.add_argument("--square-mm", type=float, default=35.0, help="square side, mm")
    parser.add_argument("--marker-mm", type=float, default=26.0, help="marker side, mm")
    parser.add_argument("--dictionary", default="DICT_5X5_100", help="ArUco dictionary")
    parser.add_argument(
        "--legacy",
        action="store_true",
        help="board printed in OpenCV's pre-4.6 layout (even row counts only; calib.io boards)",
    )


def camera_model(out: Path, intrinsics_file: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated intrinsics (K, dist) from `--intrinsics` or `OUT/camera_intrinsics.json`."""
    root = Path(intrinsics_file).parent if intrinsics_file else out
    if not (root / CAMERA.filename).exists():
        raise CalibrationError(
            f"no {CAMERA.filename} in {root}; run `edgerun calibrate camera --out {root}` first "
            "(or pass --intrinsics)"
        )
    camera = load_artifact(root, CAMERA)
    assert isinstance(camera, CameraCalibration)
    intr = camera.intrinsics
    return intr.matrix(), np.array(intr.coeffs)


def host_offsets(out: Path, motor_ids: list[int]) -> tuple[np.ndarray | None, bool]:
    """Zero offsets from `OUT/joints.json` when present (and for these motors)."""
    if not (out / JOINTS.filename).exists():
        return None, False
    from edge_runtime.calibration_artifacts import require_joint_calibration

    joints = require_joint_calibration(out, motor_ids)
    return joints.host_offsets_rad(), True


def confirm(args: argparse.Namespace, message: str) -> None:
    """Interactive safety confirmation; `--non-interactive` means the caller already checked."""
    if getattr(args, "non_interactive", False):
        print(f"{message} (non-interactive: continuing)")
        return
    try:
        input(f"{message} — press Enter to continue, Ctrl-C to abort ")
    except EOFError as exc:
        raise CalibrationError(
            "no terminal to confirm on; pass --non-interactive to run scripted"
        ) from exc


def artifact_serial(given: str, robot: Robot | None) -> str:
    """The camera serial an artifact records: `--serial`, else the serial the config gives the
    camera looked through (with `--camera wrist`, the wrist camera's), else "" (unknown)."""
    if given or robot is None:
        return given
    return robot.config.camera.serial

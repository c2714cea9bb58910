"""Hand-eye data: drive the robot through proposed poses, or read recorded pose/image pairs.

Both paths meet in one on-disk format, a capture directory with `poses.json` and one PNG per
pose, so a live session can be re-solved later (other method, other board definition) and a
session recorded elsewhere can be solved here:

    {"motor_ids": [1, 2, 3, 4], "mode": "to-hand",
     "pairs": [{"image": "pose_000.png", "joints_rad": [0.1, ...]}, ...]}

`joints_rad` are calibrated joint angles (after zero offsets), in motor order, in the joint
order of the robot model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calibration.board import BoardSpec, detect, make_board
from calibration.handeye import HandEyeResult, board_pose, solve_handeye
from calibration.kinematics import RobotModel
from calibration.motion import Mover
from calibration.views import save_png
from edge_runtime.calibration_artifacts.artifact import write_atomic
from edge_runtime.errors import CalibrationError, StaleFrameError
from edge_runtime.sensors.base import Camera

POSES_FILE = "poses.json"
EXPOSURE_LATENCY_S = 0.1  # a frame arriving sooner after the robot stopped may show it moving


@dataclass(frozen=True)
class Pair:
    image: str
    joints_rad: list[float]


def write_capture(root: Path, motor_ids: list[int], mode: str, pairs: list[Pair]) -> None:
    document = {
        "motor_ids": motor_ids,
        "mode": mode,
        "pairs": [{"image": p.image, "joints_rad": p.joints_rad} for p in pairs],
    }
    write_atomic(root / POSES_FILE, (json.dumps(document, indent=2) + "\n").encode())


def read_capture(root: Path) -> tuple[list[int], str, list[Pair]]:
    path = root / POSES_FILE
    try:
        document = json.loads(path.read_text())
        pairs = [
            Pair(str(p["image"]), [float(x) for x in p["joints_rad"]]) for p in document["pairs"]
        ]
        return [int(i) for i in document["motor_ids"]], str(document["mode"]), pairs
    except FileNotFoundError as exc:
        raise CalibrationError(
            f"{root} has no {POSES_FILE}; pass the directory written by a hand-eye capture"
        ) from exc
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"{path} is malformed ({exc}); re-record the capture") from exc


def _frame_after(mover: Mover, goal: np.ndarray, camera: Camera, timeout_s: float) -> Any:
    """A frame certainly exposed after the robot stopped, while holding the goal.

    The first frame to arrive may have been exposed (or rendered) while the robot was still
    moving, since cameras deliver with some latency; it is skipped, and the next one must
    arrive at least `EXPOSURE_LATENCY_S` after the robot settled.
    """
    settled_ns = time.monotonic_ns()
    _, version = camera.wait_frame(-1, 0.0)  # newest version now, without waiting
    seen: list[Any] = []

    def arrived() -> bool:
        nonlocal version
        frame, newest = camera.wait_frame(version, 0.0)
        if frame is not None and newest > version:
            version = newest
            seen.append(frame)
        late_enough = bool(seen) and seen[-1].host_time_ns - settled_ns > EXPOSURE_LATENCY_S * 1e9
        return len(seen) >= 2 and late_enough

    mover.hold(goal, timeout_s, until=arrived)
    return seen[-1] if len(seen) >= 2 else None


def drive_and_capture(
    mover: Mover,
    camera: Camera,
    poses: list[np.ndarray],
    root: Path,
    mode: str,
    settle_s: float = 0.5,
    on_pose: Callable[[int, int], None] | None = None,
    frame_timeout_s: float = 2.0,
) -> list[Pair]:
    """Visit each pose, hold still, grab a frame taken after the robot stopped, save the pair."""
    root.mkdir(parents=True, exist_ok=True)
    pairs: list[Pair] = []
    for index, goal in enumerate(poses):
        if on_pose is not None:
            on_pose(index, len(poses))
        mover.move_to(goal)
        mover.wait_still(goal)
        mover.hold(goal, settle_s)
        frame = _frame_after(mover, goal, camera, frame_timeout_s)
        if frame is None:
            raise StaleFrameError(
                f"{camera.name} sent no frame within {frame_timeout_s:g} s at pose {index}; "
                "check the camera, then re-run (poses already captured are kept)"
            )
        joints, _ = mover.read()
        name = f"pose_{index:03d}.png"
        save_png(root / name, frame.color)
        pairs.append(Pair(name, [float(q) for q in joints]))
        write_capture(root, list(mover.bus.motor_ids), mode, pairs)
    return pairs


def solve_capture(
    root: Path,
    robot: RobotModel,
    spec: BoardSpec,
    matrix: np.ndarray,
    coeffs: np.ndarray,
    mode: str | None = None,
) -> tuple[HandEyeResult, list[str], list[int]]:
    """Detect the board in every image, run FK on every joint vector, solve.

    Returns the result, the images skipped (and why), and the recorded motor ids.
    """
    import cv2

    motor_ids, recorded_mode, pairs = read_capture(root)
    if len(motor_ids) != len(robot.joint_names):
        raise CalibrationError(
            f"{root} was recorded with {len(motor_ids)} motors but {robot.name} has "
            f"{len(robot.joint_names)} joints; pass the robot's own MJCF with --mjcf"
        )
    board = make_board(spec)
    grippers, boards, skipped = [], [], []
    for pair in pairs:
        image = cv2.imread(str(root / pair.image))
        if image is None:
            skipped.append(f"{pair.image}: missing or unreadable")
            continue
        found = board_pose(detect(image[:, :, ::-1], spec, board), matrix, coeffs)
        if found is None:
            skipped.append(f"{pair.image}: board not found")
            continue
        grippers.append(robot.fk(np.array(pair.joints_rad)))
        boards.append(found)
    if len(pairs) and not grippers:
        raise CalibrationError(
            f"the board was found in none of the {len(pairs)} images in {root}; check the board "
            "definition (--board) and that the board is in view"
        )
    result = solve_handeye(grippers, boards, mode or recorded_mode)
    return result, skipped, motor_ids

"""Proposing hand-eye poses: safe for the robot, diverse in rotation, visible to the camera.

Candidates are sampled inside the joint limits (shrunk by a margin), evaluated with MuJoCo
forward kinematics, and kept only if the whole arm stays above a clearance height and the
board can be seen (when a rough camera pose is known, e.g. the MJCF camera or last
calibration). From the survivors a farthest-point selection picks poses whose tool
orientations differ most, then orders them as a nearest-neighbour tour so every move between
consecutive poses is short.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration.geometry import rotation_angle_deg
from calibration.kinematics import RobotModel
from edge_runtime.errors import CalibrationError


@dataclass(frozen=True)
class PoseConstraints:
    limit_margin_rad: float = 0.15
    clearance_m: float = 0.06  # every link origin and the tool above the base plane by this
    max_view_angle_deg: float = 55.0  # board normal vs direction to the camera (to-hand)
    max_off_axis_deg: float = 18.0  # board centre vs the camera's optical axis
    distance_m: tuple[float, float] = (0.25, 1.2)


def _chain_bodies(robot: RobotModel) -> list[int]:
    body = int(robot.model.site_bodyid[robot._site])
    chain = []
    while body > 0:
        chain.append(body)
        body = int(robot.model.body_parentid[body])
    return chain


def is_safe(robot: RobotModel, q: np.ndarray, limits: PoseConstraints) -> bool:
    lower = robot.lower + limits.limit_margin_rad
    upper = robot.upper - limits.limit_margin_rad
    if np.any(q < lower) or np.any(q > upper):
        return False
    tool = robot.fk(q)  # also evaluates every body for the chain check below
    base_z = robot._base_pose()[2, 3]
    chain = _chain_bodies(robot)[:-2]  # the base and the first moving link sit at the base
    heights = [robot.data.xpos[b, 2] - base_z for b in chain] + [tool[2, 3]]
    return bool(min(heights) > limits.clearance_m)


def is_visible(
    tool: np.ndarray, base_camera: np.ndarray, mode: str, limits: PoseConstraints
) -> bool:
    """Board on the tool facing +z (to-hand), or camera on the tool looking along +z (in-hand)."""
    if mode == "in-hand":
        down = np.array([0.0, 0.0, -1.0])
        return bool(np.degrees(np.arccos(np.clip(tool[:3, 2] @ down, -1, 1))) < 50)
    to_camera = base_camera[:3, 3] - tool[:3, 3]
    distance = float(np.linalg.norm(to_camera))
    if not limits.distance_m[0] < distance < limits.distance_m[1]:
        return False
    facing = np.degrees(np.arccos(np.clip(tool[:3, 2] @ to_camera / distance, -1, 1)))
    optical = base_camera[:3, 2]
    off_axis = np.degrees(np.arccos(np.clip(-to_camera @ optical / distance, -1, 1)))
    return bool(facing < limits.max_view_angle_deg and off_axis < limits.max_off_axis_deg)


def propose_poses(
    robot: RobotModel,
    count: int,
    rng: np.random.Generator,
    mode: str = "to-hand",
    base_camera: np.ndarray | None = None,
    limits: PoseConstraints | None = None,
    start: np.ndarray | None = None,
    candidates: int = 4000,
) -> list[np.ndarray]:
    """`count` joint vectors (motor order), safe and rotation-diverse, as a short tour."""
    limits = limits or PoseConstraints()
    lower = robot.lower + limits.limit_margin_rad
    upper = robot.upper - limits.limit_margin_rad
    kept_q, kept_t = [], []
    for q in rng.uniform(lower, upper, (candidates, len(lower))):
        if not is_safe(robot, q, limits):
            continue
        tool = robot.fk(q)
        if base_camera is not None and not is_visible(tool, base_camera, mode, limits):
            continue
        kept_q.append(q)
        kept_t.append(tool)
    if len(kept_q) < count:
        raise CalibrationError(
            f"only {len(kept_q)} of {candidates} sampled poses are safe and see the board (need "
            f"{count}); check the camera placement, lower --poses, or relax --clearance"
        )
    chosen = [0]
    # Farthest-point selection: 10 degrees of orientation weigh like 5 cm of position.
    dist = np.full(len(kept_q), np.inf)
    for _ in range(count - 1):
        last = kept_t[chosen[-1]]
        for i, tool in enumerate(kept_t):
            d = rotation_angle_deg(last[:3, :3].T @ tool[:3, :3]) / 10 + (
                np.linalg.norm(last[:3, 3] - tool[:3, 3]) / 0.05
            )
            dist[i] = min(dist[i], d)
        dist[chosen] = -1
        chosen.append(int(np.argmax(dist)))
    return _tour([kept_q[i] for i in chosen], start)


def _tour(poses: list[np.ndarray], start: np.ndarray | None) -> list[np.ndarray]:
    current = poses[0] if start is None else np.asarray(start, float)
    remaining = list(poses)
    ordered = []
    while remaining:
        nearest = min(range(len(remaining)), key=lambda i: np.abs(remaining[i] - current).max())
        current = remaining.pop(nearest)
        ordered.append(current)
    return ordered

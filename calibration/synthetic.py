"""Board views with known ground truth, for tests and `edgerun bench calibration`.

Two levels, both from the same camera model and poses:
- `project_view`: ChArUco corners projected with OpenCV's model plus Gaussian pixel noise of a
  known size (what the accuracy targets are stated against).
- `render_view`: an image of the printed board seen through the distorted camera (each output
  pixel's ray is undistorted and intersected with the board plane, 2x supersampled), so the
  real detector runs end to end on it.
Hand-eye scenes give robot poses and board poses consistent with a known camera mount.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from calibration.board import BoardSpec, Detection, board_image, make_board
from calibration.geometry import euler_xyz, invert, make_transform, perturb

DEFAULT_SIZE = (1280, 720)


@dataclass(frozen=True)
class SyntheticCamera:
    """Ground-truth pinhole + Brown-Conrady camera (OpenCV coefficient order k1 k2 p1 p2 k3)."""

    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    fx: float = 910.0
    fy: float = 908.0
    cx: float = 641.5
    cy: float = 358.2
    dist: tuple[float, float, float, float, float] = (0.09, -0.21, 0.0007, -0.0004, 0.11)

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], float)

    @property
    def coeffs(self) -> np.ndarray:
        return np.array(self.dist, float)


def random_board_poses(
    rng: np.random.Generator, count: int, spec: BoardSpec, camera: SyntheticCamera
) -> list[np.ndarray]:
    """`T_camera_board` poses that keep the whole board in view, tilted up to ~40 degrees."""
    width_m, height_m = spec.size_m
    centre_board = np.array([width_m / 2, height_m / 2, 0.0])
    poses: list[np.ndarray] = []
    while len(poses) < count:
        rotation = euler_xyz(*np.radians(rng.uniform([-40, -40, -25], [40, 40, 25])))
        depth = rng.uniform(0.45, 0.85)
        centre = depth * np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.2), 1.0])
        pose = make_transform(rotation, centre - rotation @ centre_board)
        corners = np.array(
            [[0, 0, 0], [width_m, 0, 0], [0, height_m, 0], [width_m, height_m, 0]], float
        )
        cam = corners @ pose[:3, :3].T + pose[:3, 3]
        uv = cam[:, :2] / cam[:, 2:3] * [camera.fx, camera.fy] + [camera.cx, camera.cy]
        margin = 20
        if np.all((uv > margin) & (uv < [camera.width - margin, camera.height - margin])):
            poses.append(pose)
    return poses


def project_view(
    spec: BoardSpec,
    camera: SyntheticCamera,
    pose: np.ndarray,
    noise_px: float,
    rng: np.random.Generator,
) -> Detection:
    """Every ChArUco corner projected through the camera, with N(0, noise_px) on u and v."""
    import cv2

    board = make_board(spec)
    objects = np.asarray(board.getChessboardCorners(), np.float32).reshape(-1, 3)
    rvec, _ = cv2.Rodrigues(pose[:3, :3])
    image, _ = cv2.projectPoints(objects, rvec, pose[:3, 3], camera.matrix, camera.coeffs)
    image = image.reshape(-1, 2) + rng.normal(0, noise_px, (len(objects), 2))
    return Detection(
        ids=np.arange(len(objects)),
        image_points=image.astype(np.float32),
        object_points=objects,
        markers=spec.squares_x * spec.squares_y // 2,
    )


_SUPERSAMPLE = 2


@functools.lru_cache(maxsize=4)
def _rays(camera: SyntheticCamera, factor: int = _SUPERSAMPLE) -> np.ndarray:
    """Undistorted normalized rays (x, y, 1) of every (sub-)pixel centre, row-major.

    Depends only on the camera, so it is computed once per camera and reused for every view.
    """
    import cv2

    us = (np.arange(camera.width * factor) + 0.5) / factor - 0.5
    vs = (np.arange(camera.height * factor) + 0.5) / factor - 0.5
    grid = np.stack(np.meshgrid(us, vs), axis=-1).reshape(-1, 1, 2).astype(np.float64)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-9)
    rays = cv2.undistortPointsIter(grid, camera.matrix, camera.coeffs, None, None, criteria)
    return np.concatenate([rays.reshape(-1, 2), np.ones((len(grid), 1))], axis=1)


@functools.lru_cache(maxsize=2)
def _texture(spec: BoardSpec, px_per_m: float) -> np.ndarray:
    return board_image(spec, px_per_m).astype(np.float32)


def render_view(
    spec: BoardSpec,
    camera: SyntheticCamera,
    pose: np.ndarray,
    rng: np.random.Generator,
    pixel_noise: float = 2.0,
    background: int = 120,
    supersample: int = _SUPERSAMPLE,
) -> np.ndarray:
    """An RGB uint8 image of the board at `pose` (T_camera_board) seen by `camera`."""
    import cv2

    # 2x supersampling antialiases edges as a lens does; without it corners jitter by ~0.3 px.
    factor = supersample
    px_per_m = 6000.0
    texture = _texture(spec, px_per_m)
    rays = _rays(camera, factor)
    homography = np.column_stack([pose[:3, 0], pose[:3, 1], pose[:3, 3]])
    board_xy = rays @ np.linalg.inv(homography).T
    behind = board_xy[:, 2] <= 0
    board_xy[behind, 2] = 1.0
    board_xy = board_xy[:, :2] / board_xy[:, 2:3]
    map_xy = (board_xy * px_per_m - 0.5).astype(np.float32)
    map_xy[behind] = -1e6
    shape = (camera.height * factor, camera.width * factor)
    sampled = cv2.remap(
        texture,
        map_xy[:, 0].reshape(shape),
        map_xy[:, 1].reshape(shape),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=float(background),
    )
    image = cv2.resize(sampled, (camera.width, camera.height), interpolation=cv2.INTER_AREA)
    image = image + rng.normal(0, pixel_noise, image.shape)
    gray = np.clip(image, 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def depth_view(
    spec: BoardSpec,
    camera: SyntheticCamera,
    pose: np.ndarray,
    rng: np.random.Generator,
    bias_m: float = 0.0,
    noise_m: float = 0.001,
    scale_m: float = 0.001,
    background_m: float = 1.6,
) -> np.ndarray:
    """A uint16 depth image aligned to `camera` (units of `scale_m`): the board plane where the
    board is, a wall at `background_m` elsewhere, plus a constant bias and Gaussian noise."""
    rays = _rays(camera, 1)
    normal, origin = pose[:3, 2], pose[:3, 3]
    z = (normal @ origin) / (rays @ normal)
    on_board = invert(pose) @ np.vstack([(rays * z[:, None]).T, np.ones(len(z))])
    width_m, height_m = spec.size_m
    inside = (
        (z > 0)
        & (on_board[0] >= 0)
        & (on_board[0] <= width_m)
        & (on_board[1] >= 0)
        & (on_board[1] <= height_m)
    )
    z = np.where(inside, z, background_m) + bias_m + rng.normal(0, noise_m, z.shape)
    raw = np.clip(np.round(z / scale_m), 0, 65535).astype(np.uint16)
    return raw.reshape(camera.height, camera.width)


@dataclass(frozen=True)
class HandEyeScene:
    """Ground truth and (noisy) measurements for one hand-eye problem.

    `mode = "to-hand"`: camera fixed, board on the gripper; truth is `T_base_camera`.
    `mode = "in-hand"`: camera on the gripper, board fixed; truth is `T_gripper_camera`.
    """

    mode: str
    truth: np.ndarray
    base_gripper: list[np.ndarray]
    camera_board: list[np.ndarray]


def handeye_scene(
    rng: np.random.Generator,
    count: int,
    mode: str = "to-hand",
    sigma_m: float = 0.0005,
    sigma_deg: float = 0.05,
) -> HandEyeScene:
    """Rotation-diverse gripper poses; both robot and board poses get the stated noise."""
    centre = np.array([0.35, 0.0, 0.25])
    if mode == "to-hand":
        truth = make_transform(euler_xyz(*np.radians([-120, 2, 85])), [0.6, 0.35, 0.55])
        fixed = make_transform(euler_xyz(*np.radians([3, -4, 30])), [0.02, -0.05, 0.06])
    elif mode == "in-hand":
        truth = make_transform(euler_xyz(*np.radians([1, -3, 90])), [0.04, 0.01, 0.07])
        fixed = make_transform(euler_xyz(*np.radians([180, 0, 10])), [0.40, -0.10, 0.0])
    else:
        raise ValueError(f"mode must be 'to-hand' or 'in-hand', got {mode!r}")
    grippers, boards = [], []
    for _ in range(count):
        rotation = euler_xyz(*np.radians(rng.uniform([-35, -35, -60], [35, 35, 60])))
        if mode == "in-hand":
            rotation = euler_xyz(np.pi, 0, 0) @ rotation  # tool pointing down at the table
        pose = make_transform(rotation, centre + rng.uniform(-0.12, 0.12, 3))
        if mode == "to-hand":
            board = invert(truth) @ pose @ fixed
        else:
            board = invert(truth) @ invert(pose) @ fixed
        grippers.append(perturb(pose, rng, sigma_m, sigma_deg))
        boards.append(perturb(board, rng, sigma_m, sigma_deg))
    return HandEyeScene(mode, truth, grippers, boards)

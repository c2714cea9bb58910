"""Rigid transforms as 4x4 numpy arrays, and the angle/axis helpers the solvers report with.

Naming: `T_a_b` maps points in frame b into frame a (so `T_base_gripper` is the gripper pose in
the base frame). Pure numpy so the residual maths is testable without OpenCV.
"""

from __future__ import annotations

import numpy as np


def make_transform(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = np.asarray(translation, float).reshape(3)
    return matrix


def invert(transform: np.ndarray) -> np.ndarray:
    rotation, translation = transform[:3, :3], transform[:3, 3]
    return make_transform(rotation.T, -rotation.T @ translation)


def axis_angle_to_matrix(vector: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation of |vector| radians about vector's direction."""
    vector = np.asarray(vector, float).reshape(3)
    angle = float(np.linalg.norm(vector))
    if angle < 1e-12:
        return np.eye(3)
    k = vector / angle
    skew = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * skew + (1 - np.cos(angle)) * skew @ skew


def matrix_to_axis_angle(rotation: np.ndarray) -> np.ndarray:
    cos = np.clip((np.trace(rotation) - 1) / 2, -1.0, 1.0)
    angle = float(np.arccos(cos))
    if angle < 1e-9:
        return np.zeros(3)
    if np.pi - angle < 1e-6:
        # Near 180 degrees the skew part vanishes: the axis is the eigenvector for eigenvalue 1.
        values, vectors = np.linalg.eig(rotation)
        axis = np.real(vectors[:, int(np.argmin(np.abs(values - 1)))])
        return axis / np.linalg.norm(axis) * angle
    axis = np.array(
        [
            rotation[2, 1] - rotation[1, 2],
            rotation[0, 2] - rotation[2, 0],
            rotation[1, 0] - rotation[0, 1],
        ]
    ) / (2 * np.sin(angle))
    return axis * angle


def rotation_angle_deg(rotation: np.ndarray) -> float:
    """Angle of a rotation matrix in degrees (0 for identity)."""
    cos = np.clip((np.trace(rotation) - 1) / 2, -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)))


def euler_xyz(rx: float, ry: float, rz: float) -> np.ndarray:
    """R = Rz @ Ry @ Rx, radians."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_z @ rot_y @ rot_x


def perturb(
    transform: np.ndarray, rng: np.random.Generator, sigma_m: float, sigma_deg: float
) -> np.ndarray:
    """The same pose with Gaussian translation noise and a random small rotation."""
    rotation = axis_angle_to_matrix(rng.normal(0, np.radians(sigma_deg), 3))
    noisy = transform.copy()
    noisy[:3, :3] = rotation @ transform[:3, :3]
    noisy[:3, 3] = transform[:3, 3] + rng.normal(0, sigma_m, 3)
    return noisy


def transform_error(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(translation mm, rotation deg) between two transforms."""
    delta = invert(a) @ b
    return float(np.linalg.norm(a[:3, 3] - b[:3, 3]) * 1000), rotation_angle_deg(delta[:3, :3])

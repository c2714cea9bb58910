"""SimCamera: the Camera port's twin renders RGB-D frames that agree with the geometry."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.errors import CameraError
from edge_runtime.sensors.base import Frame
from edge_runtime.sim.camera import SimCamera
from edge_runtime.sim.render import RgbdRenderer, camera_intrinsics
from edge_runtime.sim.world import SimWorld


def _next_frame(camera: SimCamera, after: int = 0) -> tuple[Frame, int]:
    frame, version = camera.wait_frame(after, timeout_s=10.0)
    assert frame is not None, camera.last_error
    return frame, version


def test_sim_camera_delivers_realsense_like_frames() -> None:
    world = SimWorld(seed=4, realtime=True)
    camera = SimCamera(world, width=64, height=48, fps=30)
    with camera:
        first, version = _next_frame(camera)
        second, _ = _next_frame(camera, version)
        assert camera.read_latest(max_age_s=10.0).frame_number >= second.frame_number
    camera.stop()  # idempotent
    assert first.color.shape == (48, 64, 3)
    assert first.color.dtype == np.uint8
    assert first.depth.shape == (48, 64)
    assert first.depth.dtype == np.uint16
    assert first.depth_scale_m == 0.001
    assert second.frame_number > first.frame_number
    assert second.device_time_ms > first.device_time_ms >= 0.0
    assert first.intrinsics == camera_intrinsics(world, 64, 48)
    assert 0.3 < float(np.median(first.depth_m())) < 2.0


def test_sim_render_matches_the_camera_model() -> None:
    """The red target appears where intrinsics + camera pose project it, at its depth."""
    world = SimWorld()
    intr = camera_intrinsics(world, 128, 96)
    world_from_cam = world.camera_pose_cv()
    with RgbdRenderer(world, 128, 96) as renderer:
        for seed in (0, 1, 2):
            world.reset(seed)
            image = renderer.render()
            top = world.target_position() + np.array([0.0, 0.0, 0.015])  # centre of the top face
            p = np.linalg.inv(world_from_cam) @ np.append(top, 1.0)
            u = intr.fx * p[0] / p[2] + intr.ppx
            v = intr.fy * p[1] / p[2] + intr.ppy
            rgb = image.color.astype(int)
            red = (rgb[..., 0] > 120) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
            rows, cols = np.nonzero(red)
            assert len(rows) >= 4
            assert abs(cols.mean() - u) < 1.5
            assert abs(rows.mean() - v) < 2.0
            pixel_depth = image.depth_m[round(v), round(u)]
            assert abs(pixel_depth - p[2]) < 0.02


def test_sim_camera_start_returns_with_a_frame_and_rejects_unknown_cameras() -> None:
    world = SimWorld(realtime=True)
    with SimCamera(world, width=32, height=24, fps=15) as camera:
        assert camera.read_latest(max_age_s=10.0).frame_number >= 1
    with pytest.raises(CameraError, match="no camera named 'elbow_cam'"):
        SimCamera(world, camera="elbow_cam")  # arm.xml has workspace_cam and wrist_cam


def test_a_follower_camera_shows_the_same_instant() -> None:
    """Hardware sync's twin: the wrist camera rendered on the scene camera's trigger."""
    world = SimWorld(realtime=True)
    wrist = SimCamera(world, width=32, height=24, fps=15, camera="wrist_cam")
    with SimCamera(world, width=32, height=24, fps=15, followers=[wrist]) as scene:
        assert wrist.wait_frame(0, timeout_s=10.0)[0] is not None
    # Stopped: the last frames of both came from one trigger.
    last_scene, last_wrist = scene.read_latest(60.0), wrist.read_latest(60.0)
    assert last_wrist.frame_number == last_scene.frame_number
    assert last_wrist.device_time_ms == last_scene.device_time_ms
    assert last_wrist.intrinsics == wrist.intrinsics  # its own lens (fovy 70), not the scene's
    assert wrist.intrinsics.fx < scene.intrinsics.fx

"""Hand-eye: accuracy in both modes, degenerate poses, MuJoCo FK, pose proposal, CLI replay."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration.board import BoardSpec
from calibration.geometry import euler_xyz, invert, make_transform, transform_error
from calibration.handeye import solve_handeye
from calibration.handeye_capture import Pair, write_capture
from calibration.kinematics import RobotModel
from calibration.poses import PoseConstraints, is_safe, propose_poses
from calibration.synthetic import SyntheticCamera, handeye_scene, render_view
from edge_runtime.calibration_artifacts import CAMERA, Device, build_document, load_calibration
from edge_runtime.calibration_artifacts import write_document as write_artifact
from edge_runtime.cli.main import main
from edge_runtime.errors import CalibrationError
from edge_runtime.sim.world import CAMERA_NAME, JOINT_NAMES, MJCF_PATH


@pytest.fixture(scope="module")
def arm() -> RobotModel:
    return RobotModel(MJCF_PATH, joint_names=list(JOINT_NAMES))


@pytest.mark.parametrize("mode", ["to-hand", "in-hand"])
def test_cal_handeye_meets_2mm_02deg_with_stated_pose_noise(mode: str) -> None:
    scene = handeye_scene(np.random.default_rng(3), 20, mode)
    result = solve_handeye(scene.base_gripper, scene.camera_board, mode)
    t_mm, r_deg = transform_error(result.transform, scene.truth)
    assert t_mm < 2.0
    assert r_deg < 0.2
    assert set(result.methods) == {"TSAI", "PARK", "HORAUD", "ANDREFF", "DANIILIDIS"}
    assert result.method in result.methods
    assert not result.warnings


def test_cal_rotation_about_one_axis_only_warns() -> None:
    rng = np.random.default_rng(0)
    truth = make_transform(euler_xyz(0.1, 0.2, 0.3), [0.5, 0.1, 0.4])
    grippers = [
        make_transform(euler_xyz(0, 0, a), rng.uniform(-0.1, 0.1, 3)) for a in np.linspace(-1, 1, 8)
    ]
    boards = [invert(truth) @ g for g in grippers]  # to-hand with the board at the tool point
    result = solve_handeye(grippers, boards, "to-hand")
    assert any("one axis" in w for w in result.warnings)


def test_cal_degenerate_and_too_few_poses_are_refused() -> None:
    still = [make_transform(np.eye(3), [0.1 * i, 0, 0]) for i in range(6)]
    with pytest.raises(CalibrationError, match="degenerate"):
        solve_handeye(still, still, "to-hand")
    with pytest.raises(CalibrationError, match=r"only 3 poses"):
        solve_handeye(still[:3], still[:3], "to-hand")


def test_cal_mujoco_fk_of_the_sim_arm(arm: RobotModel) -> None:
    # Straight up: 0.04 turret + 0.06 + 0.16 + 0.16 + 0.08 to the tool site.
    np.testing.assert_allclose(arm.fk(np.zeros(4))[:3, 3], [0, 0, 0.5], atol=1e-9)
    bent = arm.fk(np.array([np.pi / 2, 0, np.pi / 2, 0]))
    np.testing.assert_allclose(bent[:3, 3], [0, 0.24, 0.26], atol=1e-9)
    with pytest.raises(CalibrationError, match="has 4 joints"):
        arm.fk(np.zeros(3))


def test_cal_proposed_poses_are_safe_diverse_and_a_short_tour(arm: RobotModel) -> None:
    camera = arm.camera_pose(CAMERA_NAME)
    limits = PoseConstraints()
    poses = propose_poses(arm, 10, np.random.default_rng(1), base_camera=camera, limits=limits)
    assert len(poses) == 10
    assert all(is_safe(arm, q, limits) for q in poses)
    tools = [arm.fk(q) for q in poses]
    result = solve_handeye(tools, [invert(camera) @ t for t in tools], "to-hand")
    assert result.diversity.max_angle_deg > 30
    assert not result.warnings


def test_cal_handeye_cli_replays_a_recorded_capture_of_the_sim_arm(
    arm: RobotModel, tmp_path: Path
) -> None:
    """Poses for the sim arm, images of a board on its tool as its workspace camera sees them."""
    spec = BoardSpec(squares_x=5, squares_y=5, square_m=0.03, marker_m=0.022)
    lens = SyntheticCamera(960, 720, 870.0, 870.0, 480.0, 360.0, (0.02, -0.05, 0.0, 0.0, 0.0))
    truth = arm.camera_pose(CAMERA_NAME)
    board_on_tool = make_transform(np.diag([1.0, -1.0, -1.0]), [-0.075, 0.075, 0.0])
    rng = np.random.default_rng(2)
    poses = propose_poses(arm, 8, rng, base_camera=truth)
    capture = tmp_path / "capture"
    capture.mkdir()
    pairs = []
    for i, q in enumerate(poses):
        board = invert(truth) @ arm.fk(q) @ board_on_tool
        image = render_view(spec, lens, board, rng)
        cv2.imwrite(str(capture / f"pose_{i:03d}.png"), image)
        pairs.append(Pair(f"pose_{i:03d}.png", [float(v) for v in q]))
    write_capture(capture, [1, 2, 3, 4], "to-hand", pairs)
    out = tmp_path / "cal"
    intr = {
        "width": lens.width, "height": lens.height, "fx": lens.fx, "fy": lens.fy,
        "ppx": lens.cx, "ppy": lens.cy, "model": "brown_conrady", "coeffs": list(lens.dist),
        "board": spec.to_json(),
    }  # fmt: skip
    write_artifact(out / CAMERA.filename, build_document(CAMERA.name, 1, Device(), {}, intr))
    board_args = ["--squares", "5x5", "--square-mm", "30", "--marker-mm", "22"]
    code = main(
        ["calibrate", "handeye", "--recorded", str(capture), "--mjcf", str(MJCF_PATH),
         "--out", str(out), *board_args]
    )  # fmt: skip
    assert code == 0
    calib = load_calibration(out)
    assert calib.handeye is not None
    t_mm, r_deg = transform_error(calib.handeye.transform, truth)
    assert t_mm < 2.0
    assert r_deg < 0.2
    assert calib.handeye.envelope.device.motor_ids == (1, 2, 3, 4)
    doc = json.loads((out / "handeye.json").read_text())
    assert doc["data"]["parent_frame"] == "base"
    assert doc["data"]["robot_model"] == "arm.xml"

"""Camera intrinsics: accuracy on known ground truth, outliers, bad input through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration.board import BoardSpec, Detection
from calibration.intrinsics import calibrate_intrinsics
from calibration.synthetic import SyntheticCamera, project_view, random_board_poses, render_view
from edge_runtime.calibration_artifacts import load_calibration
from edge_runtime.cli.main import main
from edge_runtime.errors import CalibrationError

SPEC = BoardSpec()
CAMERA = SyntheticCamera()
SMALL = SyntheticCamera(640, 360, 455.0, 454.0, 320.7, 179.1, (0.05, -0.1, 0.0, 0.0, 0.02))


def _views(count: int, noise_px: float, seed: int = 0) -> list[tuple[str, Detection]]:
    rng = np.random.default_rng(seed)
    poses = random_board_poses(rng, count, SPEC, CAMERA)
    return [(f"v{i}", project_view(SPEC, CAMERA, p, noise_px, rng)) for i, p in enumerate(poses)]


def test_cal_focal_within_half_percent_with_02px_noise() -> None:
    result = calibrate_intrinsics(_views(20, 0.2), (CAMERA.width, CAMERA.height))
    assert result.matrix[0, 0] == pytest.approx(CAMERA.fx, rel=0.005)
    assert result.matrix[1, 1] == pytest.approx(CAMERA.fy, rel=0.005)
    assert result.rms_px < 0.3
    assert not result.rejected


def test_cal_a_corrupted_view_is_rejected_as_an_outlier() -> None:
    views = _views(12, 0.2, seed=1)
    name, bad = views[4]
    shifted = bad.image_points + np.random.default_rng(2).normal(0, 4.0, bad.image_points.shape)
    views[4] = (name, Detection(bad.ids, shifted.astype(np.float32), bad.object_points, 17))
    result = calibrate_intrinsics(views, (CAMERA.width, CAMERA.height))
    assert [v.name for v in result.rejected] == [name]
    assert "outlier" in result.rejected[0].reason
    assert result.matrix[0, 0] == pytest.approx(CAMERA.fx, rel=0.005)


def test_cal_too_few_views_says_how_many_and_what_to_do() -> None:
    with pytest.raises(CalibrationError, match=r"only 3 usable views.*need 6"):
        calibrate_intrinsics(_views(3, 0.2), (CAMERA.width, CAMERA.height))


def test_cal_camera_cli_from_an_image_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    images = tmp_path / "images"
    images.mkdir()
    for i, pose in enumerate(random_board_poses(rng, 10, SPEC, SMALL)):
        cv2.imwrite(str(images / f"img_{i:02d}.png"), render_view(SPEC, SMALL, pose, rng))
    out = tmp_path / "cal"
    code = main(["calibrate", "camera", "--images", str(images), "--out", str(out)])
    assert code == 0
    calib = load_calibration(out)
    assert calib.camera is not None
    # Ten 640x360 views with detector noise: well inside 2% (the benchmark has the tight case).
    assert calib.camera.intrinsics.fx == pytest.approx(SMALL.fx, rel=0.02)
    assert (out / "camera_errors.png").stat().st_size > 10_000
    quality = json.loads((out / "camera_intrinsics.json").read_text())["quality"]
    assert quality["views_used"] + quality["views_rejected"] == 10


def test_cal_board_not_found_exits_2_with_one_sentence_and_no_artifact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        cv2.imwrite(str(images / f"blank_{i}.png"), np.full((120, 160), 128, np.uint8))
    out = tmp_path / "cal"
    code = main(["calibrate", "camera", "--images", str(images), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "not found in any of 3 images" in err
    assert err.count("\n") == 1
    assert not (out / "camera_intrinsics.json").exists()


def test_cal_wrong_board_definition_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(6)
    images = tmp_path / "images"
    images.mkdir()
    for i, pose in enumerate(random_board_poses(rng, 2, SPEC, SMALL)):
        cv2.imwrite(str(images / f"img_{i}.png"), render_view(SPEC, SMALL, pose, rng))
    args = ["calibrate", "camera", "--images", str(images), "--out", str(tmp_path / "c")]
    assert main([*args, "--squares", "9x6"]) == 2
    assert "board definition is wrong" in capsys.readouterr().err

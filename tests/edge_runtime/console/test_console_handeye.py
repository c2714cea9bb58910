"""The hand-eye page's guards and progress (the tour itself is `calibrate handeye`'s steps).

Not driven end to end here: the simulated arm's camera films no board, and the servo-chain
twin that does (tests/calibration/test_cal_handeye_drive.py) renders 960x720 views, too slow
for this suite's budget. The library steps the page runs are the CLI's own, tested there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from console_server import error_of, request, serving, wait_running

from calibration.console_handeye import TourProgress, run_tour
from edge_runtime.console.settings import console_settings
from edge_runtime.field.live import LiveStatus

START = "/calibrate/results/{}/handeye"
CLEAR = {"poses": "6", "mode": "to-hand", "clear": "yes"}


@pytest.fixture(autouse=True)
def _calibration_pages() -> None:
    from edge_runtime.cli.main import build_parser

    build_parser()  # loads the CLI plugins, as `edgerun console` does: calibration adds its pages


def test_console_refuses_the_pose_tour_while_the_robot_runs(tmp_path: Path) -> None:
    settings = console_settings("127.0.0.1:0", data_dir=str(tmp_path))
    (settings.calibration_dir / "results" / "cell").mkdir(parents=True)
    with LiveStatus(settings.state_dir, "cell-3", "bundle-a") as live, serving(settings) as url:
        live.on_start(["shoulder"], 0.01)
        wait_running(url)
        status, body = request(url + START.format("cell"), CLEAR)
    assert status == 409, body
    assert "refused while it runs" in body


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({**CLEAR, "clear": ""}, "clear the workspace"),
        ({**CLEAR, "poses": "400"}, "poses must be a whole number"),
        ({**CLEAR, "mode": "sideways"}, "mode must be one of"),
        (CLEAR, "started without --config"),
    ],
)
def test_console_pose_tour_follows_the_clis_checks(
    fields: dict[str, str], sentence: str, tmp_path: Path
) -> None:
    settings = console_settings("127.0.0.1:0", data_dir=str(tmp_path))
    (settings.calibration_dir / "results" / "cell").mkdir(parents=True)
    with serving(settings) as url:
        status, body = request(url + START.format("cell"), fields)
        page_status, page = request(url + START.format("cell"))
    assert status == 400, body
    assert sentence in error_of(body)
    assert page_status == 200
    assert 'id="start-tour"' in page


def test_pose_tour_failure_is_one_sentence_on_the_page(tmp_path: Path) -> None:
    progress = TourProgress("cell")
    run_tour(str(tmp_path / "robot.toml"), tmp_path, 6, 0, "to-hand", progress)
    assert progress.state == "failed"
    assert "camera_intrinsics.json" in progress.message  # checked before the robot moves

"""Intrinsics collected live in the console: a person aims the board, keeps views, solves.

The camera is `BoardCamera`, the calibration tests' simulated camera (a board filmed through
a known lens, frames from its own thread like a RealSense); the console opens it where it
would open the robot's (`live_session.robot_camera`). In headless chromium: the live view
shows the detected corners, "keep this view" fills the coverage map, and finishing solves
the kept set with the recorded-set page's solve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_pages import SHOWN, screenshot, text, wait
from console_server import request, serving, wait_running

from edge_runtime.console.settings import console_settings
from edge_runtime.field.live import LiveStatus

pytestmark = pytest.mark.slow  # the `browser` fixture (conftest.py) skips without chromium
VIEWS_WANTED = 6


@pytest.fixture
def board_camera(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The console's camera becomes a simulated board camera; the list holds the opened ones."""
    pytest.importorskip("cv2", reason="the calibration extra (OpenCV) is absent")
    from calibration import live_session
    from calibration.board import BoardSpec
    from calibration.board_camera import BoardCamera
    from calibration.synthetic import SyntheticCamera, random_board_poses
    from edge_runtime.cli.main import build_parser

    build_parser()  # loads the CLI plugins, as `edgerun console` does: calibration adds its pages

    lens = SyntheticCamera(640, 360, 455.0, 454.0, 320.7, 179.1, (0.05, -0.1, 0.0, 0.0, 0.02))
    poses = random_board_poses(np.random.default_rng(5), 10, BoardSpec(), lens)
    opened: list[Any] = []

    def open_board_camera(config_path: str | None) -> Any:
        camera = BoardCamera(BoardSpec(), lens, poses, fps=8.0, supersample=1, reuse_renders=True)
        opened.append(camera)
        return camera

    monkeypatch.setattr(live_session, "robot_camera", open_board_camera)
    return opened


def test_console_collects_intrinsics_views_live_and_solves(
    browser: Any, board_camera: list[Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    console = console_settings("127.0.0.1:0", data_dir=str(tmp_path / "data"))
    with serving(console) as url:
        browser.get(url + "/calibrate")
        browser.find_element(By.ID, "live-link").click()
        browser.find_element(By.ID, "start").click()
        wait(browser, lambda b: b.find_elements(By.ID, "keep"))
        wait(browser, lambda b: _corners(b) >= 8)  # the board is seen (a newer frame, below)
        wait(browser, lambda b: b.execute_script(SHOWN, "live"))  # a decoded JPEG
        # A keep is refused when the view is too close to one already kept (the CLI's rule):
        # the camera cycles through 10 poses, so allow many tries (a run once kept 5 in 24).
        for _ in range(10 * VIEWS_WANTED):
            if int(text(browser, "kept")) >= VIEWS_WANTED:
                break
            shown = _live_src(browser)
            wait(browser, lambda b, before=shown: _live_src(b) != before and _corners(b) >= 8)
            browser.find_element(By.ID, "keep").click()  # clears the message, then answers
            wait(browser, lambda b: text(b, "message"))  # kept, or why not in one sentence
        assert int(text(browser, "kept")) >= VIEWS_WANTED
        assert browser.find_elements(By.CSS_SELECTOR, "#coverage td.hit")
        screenshot(browser, "calibrate-live", tmp_path)
        browser.find_element(By.ID, "finish").click()  # releases the camera, shows the set
        wait(browser, lambda b: b.find_elements(By.ID, "solve"))
        assert '"open": false' in request(url + "/api/calibrate/live")[1]  # camera released
        browser.find_element(By.ID, "solve").click()
        wait(browser, lambda b: b.find_elements(By.ID, "result"))
        assert "rms_px" in text(browser, "result")
    images = console.calibration_dir / "images" / "live-views"
    assert len(list(images.glob("view_*.png"))) >= VIEWS_WANTED
    assert (images / "board.json").exists()
    assert (console.calibration_dir / "results" / "live-views" / "camera_intrinsics.json").exists()


def _corners(browser: Any) -> int:
    shown = text(browser, "corners")
    return int(shown) if shown.isdigit() else 0


def _live_src(browser: Any) -> str:
    return str(browser.execute_script("return document.getElementById('live').src;"))


def test_console_opens_no_camera_while_the_robot_runs(board_camera: list[Any]) -> None:
    settings = console_settings("127.0.0.1:0")
    with LiveStatus(settings.state_dir, "cell-3", "bundle-a") as live, serving(settings) as url:
        live.on_start(["shoulder"], 0.01)
        wait_running(url)
        status, body = request(url + "/calibrate/live/start", {"set": "views"})
        keep_status, keep_body = request(url + "/api/calibrate/live/keep", {})
    assert status == 409, body
    assert "refused while it runs" in body
    assert keep_status == 409, keep_body
    assert board_camera == []

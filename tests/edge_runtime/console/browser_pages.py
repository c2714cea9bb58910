"""What the browser tests share: waiting for the page, reading it, screenshots, a recorded set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

SHOWN = "const image = document.getElementById(arguments[0]); return image.naturalWidth > 0;"
WAIT_S = 20.0  # generous: the suite shares two cores; a pass is usually far quicker


def wait(browser: Any, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(condition)


def text(browser: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.ID, element_id).text)


def screenshot(browser: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("EDGERUN_CONSOLE_SCREENSHOTS") or tmp_path)
    browser.save_screenshot(str(folder / f"console-{name}.png"))


def recorded_image_set(folder: Path, count: int = 8) -> None:
    """Board views as a live `calibrate camera` session saves them (the calibration tests')."""
    import cv2

    from calibration.board import BoardSpec
    from calibration.synthetic import SyntheticCamera, random_board_poses, render_view

    camera = SyntheticCamera(640, 360, 455.0, 454.0, 320.7, 179.1, (0.05, -0.1, 0.0, 0.0, 0.02))
    rng = np.random.default_rng(5)
    folder.mkdir(parents=True)
    for i, pose in enumerate(random_board_poses(rng, count, BoardSpec(), camera)):
        image = render_view(BoardSpec(), camera, pose, rng, supersample=1)  # small and quick
        cv2.imwrite(str(folder / f"view_{i:02d}.png"), image)

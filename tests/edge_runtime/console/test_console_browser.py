"""The console in a real browser (Debian's headless chromium through Selenium).

Against the simulated arm (MuJoCo, servos on a pty behind the Dynamixel driver, the rendered
camera, ONNX Runtime) publishing through `LiveStatus` exactly as `drive()` wires it: the page
must show live numbers changing and the camera, then a latched stop that a person
acknowledges, then a camera calibration completed from a recorded image set. Set
EDGERUN_CONSOLE_SCREENSHOTS=docs to refresh the screenshots in docs/.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from console_server import serving
from sim_rig import Rig, policy_factory, settings

from edge_runtime.cli.main import build_parser
from edge_runtime.console.settings import console_settings
from edge_runtime.field.latch import LatchedStop, StopLatch
from edge_runtime.field.live import LiveStatus
from edge_runtime.pipeline.runtime import Runtime
from edge_runtime.sim.camera import SimCamera

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the dev extra) is absent")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER),
        reason="Debian's chromium and chromium-driver are not installed (tools/setup.sh "
        "installs them when run as root)",
    ),
]
SHOWN = "const image = document.getElementById(arguments[0]); return image.naturalWidth > 0;"
WAIT_S = 20.0  # generous: the suite shares two cores; a pass is usually far quicker


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    build_parser()  # loads the CLI plugins, as `edgerun console` does: calibration adds its pages
    options = Options()
    options.binary_location = CHROMIUM or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER or ""))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(browser: Any, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(condition)


def _text(browser: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.ID, element_id).text)


def _screenshot(browser: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("EDGERUN_CONSOLE_SCREENSHOTS") or tmp_path)
    browser.save_screenshot(str(folder / f"console-{name}.png"))


def test_console_shows_the_running_arm_live_then_a_stop_acknowledged(
    rig: Rig, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    console = console_settings("127.0.0.1:0")
    live = LiveStatus(console.state_dir, "sim-arm", str(rig.bundle_path))
    camera = SimCamera(rig.world, width=160, height=120, fps=15)
    runtime = Runtime(
        rig.bus_factory(), camera, policy_factory(rig.bundle_path), settings(rig.world), [live]
    )
    with serving(console) as url, live:
        run = threading.Thread(target=runtime.run, args=(4.0,), name="sim-run")
        run.start()
        browser.get(url + "/")
        _wait(browser, lambda b: _text(b, "state") == "running" and _text(b, "ticks") != "–")
        first = int(_text(browser, "ticks"))
        _wait(browser, lambda b: b.find_elements(By.ID, "camera-camera"))
        _wait(browser, lambda b: b.execute_script(SHOWN, "camera-camera"))  # a decoded JPEG
        _wait(browser, lambda b: int(_text(b, "ticks")) > first + 50)  # live numbers change
        _screenshot(browser, "robot", tmp_path)
        run.join(timeout=30)
        assert not run.is_alive()
        _wait(browser, lambda b: _text(b, "state") == "idle")
        # The run ended on a safety stop: latched as `run` latches it (edge_runtime.field.service).
        StopLatch(console.state_dir).latch(
            LatchedStop(reason="safety stop: stale_observation", robot="sim-arm", bundle="b")
        )
        _wait(browser, lambda b: _text(b, "state") == "latched")
        browser.get(url + "/stop")
        assert "stale_observation" in _text(browser, "reason")
        browser.find_element(By.ID, "by").send_keys("ana")
        browser.find_element(By.ID, "why").send_keys("camera cable reseated, view checked")
        _screenshot(browser, "stop", tmp_path)
        browser.find_element(By.ID, "ack").click()
        _wait(browser, lambda b: b.find_elements(By.ID, "done"))
        assert "cleared the safety stop" in _text(browser, "done")
    acks = StopLatch(console.state_dir).acknowledgements()
    assert StopLatch(console.state_dir).read() is None
    assert (acks[-1].by, acks[-1].why) == ("ana", "camera cable reseated, view checked")


def _recorded_image_set(folder: Path, count: int = 8) -> None:
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


def test_console_completes_a_calibration_from_recorded_images(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    pytest.importorskip("cv2", reason="the calibration extra (OpenCV) is absent")
    console = console_settings("127.0.0.1:0", data_dir=str(tmp_path / "data"))
    _recorded_image_set(console.calibration_dir / "images" / "bench-set")
    with serving(console) as url:
        browser.get(url + "/calibrate")
        browser.find_element(By.LINK_TEXT, "bench-set").click()
        _wait(browser, lambda b: b.find_elements(By.ID, "coverage"))
        covered = browser.find_elements(By.CSS_SELECTOR, "#coverage td.hit")
        assert covered  # the detected corners reached some image cells
        _screenshot(browser, "calibrate-set", tmp_path)
        browser.find_element(By.ID, "solve").click()
        _wait(browser, lambda b: b.find_elements(By.ID, "result"))
        table = _text(browser, "result")
        assert "rms_px" in table
        _screenshot(browser, "calibrate-result", tmp_path)
    artifact = console.calibration_dir / "results" / "bench-set" / "camera_intrinsics.json"
    assert artifact.exists()

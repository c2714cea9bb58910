"""The console in a real browser (Debian's headless chromium through Selenium).

Against the simulated arm (MuJoCo, servos on a pty behind the Dynamixel driver, the rendered
camera, ONNX Runtime) publishing through `LiveStatus` exactly as `drive()` wires it: the page
must show live numbers changing and the camera, then a latched stop that a person
acknowledges, then a camera calibration completed from a recorded image set. Set
EDGERUN_CONSOLE_SCREENSHOTS=docs to refresh the screenshots in docs/.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from browser_pages import SHOWN, recorded_image_set, screenshot, text, wait
from console_server import serving
from sim_rig import Rig, policy_factory, settings

from edge_runtime.console.settings import console_settings
from edge_runtime.field.latch import LatchedStop, StopLatch
from edge_runtime.field.live import LiveStatus
from edge_runtime.pipeline.runtime import Runtime
from edge_runtime.sim.camera import SimCamera

pytestmark = pytest.mark.slow  # the `browser` fixture (conftest.py) skips without chromium


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
        wait(browser, lambda b: text(b, "state") == "running" and text(b, "ticks") != "–")
        first = int(text(browser, "ticks"))
        wait(browser, lambda b: b.find_elements(By.ID, "camera-camera"))
        wait(browser, lambda b: b.execute_script(SHOWN, "camera-camera"))  # a decoded JPEG
        wait(browser, lambda b: int(text(b, "ticks")) > first + 50)  # live numbers change
        screenshot(browser, "robot", tmp_path)
        run.join(timeout=30)
        assert not run.is_alive()
        wait(browser, lambda b: text(b, "state") == "idle")
        # The run ended on a safety stop: latched as `run` latches it (edge_runtime.field.service).
        StopLatch(console.state_dir).latch(
            LatchedStop(reason="safety stop: stale_observation", robot="sim-arm", bundle="b")
        )
        wait(browser, lambda b: text(b, "state") == "latched")
        browser.get(url + "/stop")
        assert "stale_observation" in text(browser, "reason")
        browser.find_element(By.ID, "by").send_keys("ana")
        browser.find_element(By.ID, "why").send_keys("camera cable reseated, view checked")
        screenshot(browser, "stop", tmp_path)
        browser.find_element(By.ID, "ack").click()
        wait(browser, lambda b: b.find_elements(By.ID, "done"))
        assert "cleared the safety stop" in text(browser, "done")
    acks = StopLatch(console.state_dir).acknowledgements()
    assert StopLatch(console.state_dir).read() is None
    assert (acks[-1].by, acks[-1].why) == ("ana", "camera cable reseated, view checked")


def test_console_completes_a_calibration_from_recorded_images(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    pytest.importorskip("cv2", reason="the calibration extra (OpenCV) is absent")
    console = console_settings("127.0.0.1:0", data_dir=str(tmp_path / "data"))
    recorded_image_set(console.calibration_dir / "images" / "bench-set")
    with serving(console) as url:
        browser.get(url + "/calibrate")
        browser.find_element(By.LINK_TEXT, "bench-set").click()
        wait(browser, lambda b: b.find_elements(By.ID, "coverage"))
        covered = browser.find_elements(By.CSS_SELECTOR, "#coverage td.hit")
        assert covered  # the detected corners reached some image cells
        screenshot(browser, "calibrate-set", tmp_path)
        browser.find_element(By.ID, "solve").click()
        wait(browser, lambda b: b.find_elements(By.ID, "result"))
        table = text(browser, "result")
        assert "rms_px" in table
        screenshot(browser, "calibrate-result", tmp_path)
    artifact = console.calibration_dir / "results" / "bench-set" / "camera_intrinsics.json"
    assert artifact.exists()

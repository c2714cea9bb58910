"""`selftest` on a robot with several cameras: a row per configured camera, each judged on its
own frames and its own `[[cameras]]` entry."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from edge_runtime.config import load_config
from edge_runtime.field.selftest_devices import device_checks

TWO_CAMERA = resources.files("edge_runtime.sim") / "robots" / "two_camera.toml"


def test_selftest_checks_every_camera_of_the_two_camera_robot(tmp_path: Path) -> None:
    # The wrist camera renders narrower frames than the scene camera: each row is judged
    # against its own entry, not the primary's. Few frames and reads keep the test short.
    text = TWO_CAMERA.read_text().replace("loop_ticks = 100", "loop_ticks = 10\ncamera_frames = 3")
    wrist = text.index('name = "wrist"\nrole = "wrist"')
    text = text[:wrist] + text[wrist:].replace("width = 128", "width = 64", 1)
    (tmp_path / "robot.toml").write_text(text)
    checks = {c.name: c for c in device_checks(load_config(tmp_path / "robot.toml"), None)}
    assert list(checks) == ["camera scene", "camera wrist", "motors", "loop timing"]
    for name, width in (("camera scene", 128), ("camera wrist", 64)):
        assert checks[name].status == "ok", checks[name].detail
        assert (checks[name].values["width"], checks[name].values["height"]) == (width, 96)
    # Both simulated chains answer on their own ptys (the rig's `bus_ports`): before, selftest
    # opened the buses at the config's empty ports and failed the motors row.
    assert checks["motors"].status == "ok", checks["motors"].detail

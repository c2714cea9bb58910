"""`[[cameras]]` and `[camera_sync]`: named cameras; the old `[camera]` is one named "camera"."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config import GOOD, write

from edge_runtime.config import load_config
from edge_runtime.errors import ConfigError
from edge_runtime.sensors.realsense_sync import sync_modes

OLD_CAMERA = '[camera]\ntype = "realsense"\nwidth = 640\nheight = 480\n'
TWO = """
[[cameras]]
name = "wrist"
role = "wrist"
type = "realsense"
serial = "111"
fps = 30

[[cameras]]
name = "scene"
type = "realsense"
serial = "222"
fps = 60

[camera_sync]
primary = "scene"
hardware = true
"""


def test_the_old_camera_table_is_one_camera_named_camera(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert [c.name for c in config.camera_configs] == ["camera"]
    assert config.camera.role == "scene"
    assert config.camera.width == 640
    assert config.camera_sync.tolerance_ms == pytest.approx(500 / 30)  # half a frame period
    assert config.camera_sync.hardware is False


def test_named_cameras_load_primary_first(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD.replace(OLD_CAMERA, TWO)))
    assert [c.name for c in config.camera_configs] == ["scene", "wrist"]
    assert config.camera.serial == "222"  # `camera` stays the primary for single-camera code
    assert config.camera_configs[1].role == "wrist"
    assert config.camera_sync.tolerance_ms == pytest.approx(500 / 60)  # the fastest camera's
    assert sync_modes([c.name for c in config.camera_configs], hardware=True) == {
        "scene": 1,  # master
        "wrist": 2,  # slave
    }
    assert sync_modes(["scene"], hardware=True) == {"scene": 0}  # a slave needs a master


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "scene"', 'name = "wrist"', r"camera names must be unique, \['wrist'\]"),
        ('serial = "222"', 'serial = "111"', r"camera serials must be unique"),
        ('name = "scene"', 'name = "scene.top"', r"cameras\[1\] name = 'scene.top' is invalid"),
        ('role = "wrist"', 'role = "elbow"', r"cameras\[0\] role = 'elbow' is invalid"),
        ('primary = "scene"', 'primary = "top"', r"\[camera_sync\] primary = 'top' is invalid"),
        ("hardware = true", "tolerance_ms = -1", r"tolerance_ms = -1 is invalid"),
        ('name = "wrist"\n', "", r"cameras\[0\] is missing the key 'name'"),
    ],
)
def test_camera_mistakes_are_one_sentence(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = GOOD.replace(OLD_CAMERA, TWO.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_camera_and_cameras_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"both \[camera\] and \[\[cameras\]\] are set"):
        load_config(write(tmp_path, GOOD + TWO))

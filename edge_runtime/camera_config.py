"""The `[[cameras]]` and `[camera_sync]` sections of a robot config (and the old `[camera]`).

A robot has one or more cameras by name. The old single `[camera]` table still works: it is
one camera named "camera", which old bundles' `observation.rgbd` reads. `[[cameras]]`
entries name each camera (bundles read `observation.<name>.rgbd`) and give its role: "wrist"
(moves with the hand: hand-eye calibrated eye-in-hand) or "scene" (fixed: eye-to-hand).
`[camera_sync]` states how close in capture time a frame set's frames must be
(`tolerance_ms`, default half the fastest camera's frame period: any closer frame would be
the same exposure) and whether to slave the RealSense cameras to one master's trigger
(`hardware`; the software match runs either way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edge_runtime.errors import ConfigError
from edge_runtime.fields import Section

CAMERA_TYPES = ("sim", "realsense", "playback")
CAMERA_ROLES = ("scene", "wrist")
DEFAULT_CAMERA = "camera"  # the `[camera]` table's camera; old bundles' `observation.rgbd`
SIM_CAMERAS = {"scene": "workspace_cam", "wrist": "wrist_cam"}  # arm.xml's cameras by role
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")  # goes into `observation.<name>.rgbd`


@dataclass(frozen=True)
class CameraConfig:
    type: str = "sim"
    serial: str = ""
    playback: str = ""
    width: int = 640
    height: int = 480
    fps: int = 30
    max_age_s: float = 0.1
    name: str = DEFAULT_CAMERA
    role: str = "scene"

    @property
    def sim_camera(self) -> str:
        """The simulated arm's MJCF camera this camera renders (by role)."""
        return SIM_CAMERAS[self.role]


@dataclass(frozen=True)
class CameraSyncConfig:
    tolerance_ms: float = 16.0  # parse_cameras sets it from the cameras' rates by default
    hardware: bool = False  # RealSense inter-camera sync: the primary is master, others slave
    primary: str = ""  # whose frame fields a set carries; "" = the first camera


def parse_cameras(
    data: dict[str, Any], where: str
) -> tuple[tuple[CameraConfig, ...], CameraSyncConfig]:
    """The cameras (primary first) and how their frames are matched."""
    entries = data.get("cameras")
    if entries is not None and "camera" in data:
        raise ConfigError(
            f"{where}: both [camera] and [[cameras]] are set; move [camera] into a [[cameras]] "
            "entry with a name"
        )
    if entries is None:
        cameras: tuple[CameraConfig, ...] = (_camera(data, "camera", where, "[camera]", None),)
    elif not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: cameras must be [[cameras]] tables, one per camera")
    else:
        cameras = tuple(
            _camera({"cameras": entry}, "cameras", where, f"cameras[{i}]", entry)
            for i, entry in enumerate(entries)
        )
    for attr in ("name", "serial"):
        values = [getattr(c, attr) for c in cameras if getattr(c, attr)]
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ConfigError(f"{where}: camera {attr}s must be unique, {dupes} appear twice")
    sync = _sync(data, where, cameras)
    primary = next(c for c in cameras if c.name == sync.primary)
    return (primary, *(c for c in cameras if c is not primary)), sync


def _camera(data: dict[str, Any], section: str, where: str, label: str, entry: Any) -> CameraConfig:
    if entry is not None and not isinstance(entry, dict):
        raise ConfigError(f"{where}: {label} must be a table [[cameras]]")
    sec = Section(data, section, where, label=label)
    named = entry is not None
    camera = CameraConfig(
        type=sec.choice("type", CAMERA_TYPES, default="sim"),
        serial=sec.string("serial", default=""),
        playback=sec.string("playback", default=""),
        width=sec.integer("width", default=640, minimum=16),
        height=sec.integer("height", default=480, minimum=16),
        fps=sec.integer("fps", default=30, minimum=1),
        max_age_s=sec.number("max_age_s", default=0.1, positive=True),
        name=sec.string("name") if named else DEFAULT_CAMERA,
        role=sec.choice("role", CAMERA_ROLES, default="scene"),
    )
    sec.done()
    if not _NAME.match(camera.name):
        raise ConfigError(
            f"{where}: {label} name = {camera.name!r} is invalid: use letters, digits, _ or -, "
            'starting with a letter, e.g. name = "wrist"'
        )
    if camera.type == "playback" and not camera.playback:
        raise ConfigError(f'{where}: {label} type = "playback" needs playback = "FILE.db3"')
    return camera


def _sync(data: dict[str, Any], where: str, cameras: tuple[CameraConfig, ...]) -> CameraSyncConfig:
    sec = Section(data, "camera_sync", where)
    half_period_ms = 500.0 / max(c.fps for c in cameras)
    names = [c.name for c in cameras]
    sync = CameraSyncConfig(
        tolerance_ms=sec.number("tolerance_ms", default=half_period_ms, minimum=0.0),
        hardware=sec.boolean("hardware", default=False),
        primary=sec.choice("primary", tuple(names), default=names[0]),
    )
    sec.done()
    return sync

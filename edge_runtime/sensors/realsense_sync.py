"""Hardware sync of several RealSense cameras (the D400 inter-camera sync option).

With a sync cable between the cameras, one camera (the master) drives the others' (slaves')
exposure trigger, so their frames are taken within microseconds of each other and the
software match (`frame_set`) pairs every frame. Without the cable, or on a device without
the option (playback, some SKUs), the cameras free-run and the software match pairs what
lies within its tolerance. Values of `RS2_OPTION_INTER_CAM_SYNC_MODE` on D400:
0 default (free-running), 1 master, 2 slave. The master starts first (Intel's multi-camera
guide: slaves started before their master may not lock), which `CameraSet` does by starting
the primary first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

SYNC_DEFAULT, SYNC_MASTER, SYNC_SLAVE = 0, 1, 2


def sync_modes(names: Sequence[str], hardware: bool) -> dict[str, int]:
    """The inter-camera sync mode per camera: the first (primary) master, the others slaves.

    Without `hardware`, or with one camera alone, every camera free-runs (mode 0): a slave
    without a master would wait for triggers that never come.
    """
    if not hardware or len(names) < 2:
        return {name: SYNC_DEFAULT for name in names}
    return {name: SYNC_MASTER if i == 0 else SYNC_SLAVE for i, name in enumerate(names)}


def apply_sync_mode(rs: ModuleType, device: Any, mode: int) -> str:
    """Set `mode` on the device's depth sensor; "hardware", or "software" where unsupported.

    Must run before the streams start (the firmware refuses a change while streaming).
    """
    option = rs.option.inter_cam_sync_mode
    sensors = [s for s in device.query_sensors() if s.supports(option)]
    if not sensors:
        if mode != SYNC_DEFAULT:
            log.warning(
                "%s has no inter-camera sync option: its frames are matched in software only",
                _serial(rs, device),
            )
        return "software"
    for sensor in sensors:
        sensor.set_option(option, float(mode))
    return "hardware" if mode != SYNC_DEFAULT else "software"


def _serial(rs: ModuleType, device: Any) -> str:
    key = rs.camera_info.serial_number
    return f"camera {device.get_info(key)}" if device.supports(key) else "the camera"

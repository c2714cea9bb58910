"""`camera check --config ROBOT.toml`: every camera of a robot read as frame sets, with skew.

Opens the cameras exactly as `run` does (a simulated robot's through its rig process), reads
for a while with the motors untouched, and reports per camera the frames delivered and for
the sets the count, the frames left out and the skew p50/p99/max against the tolerance: the
number that says whether the cameras are synced well enough for a model that reads several.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from edge_runtime.config import load_config
from edge_runtime.errors import CameraError
from edge_runtime.sensors.base import Camera
from edge_runtime.sensors.camera_set import CameraSet


def check_cameras(config_path: str | Path, seconds: float) -> dict[str, Any]:
    """Read the config's cameras for `seconds`; the frame-set statistics (`CameraSet.stats`)."""
    config = load_config(config_path)
    with contextlib.ExitStack() as stack:
        if config.sim.enabled:
            from edge_runtime.sim.rig import SimRig

            rig = stack.enter_context(SimRig(config))
            camera: Camera | None = rig.camera
        else:
            from edge_runtime.robot import open_camera

            camera = open_camera(config)
        assert camera is not None
        if not isinstance(camera, CameraSet):  # one camera: its sets are its frames
            camera = CameraSet({config.camera.name: camera}, config.camera_sync.tolerance_ms)
        camera.start()
        stack.callback(camera.stop)
        start_s = time.perf_counter()
        time.sleep(seconds)
        elapsed_s = time.perf_counter() - start_s
        stats = camera.stats()
    if stats["sets"] == 0:
        raise CameraError(
            f"{config.path.name}: no frame set in {seconds:g} s (frames per camera: "
            f"{ {n: c['frames'] for n, c in stats['cameras'].items()} }); check each camera "
            "alone with `camera check --serial`, or raise [camera_sync] tolerance_ms"
        )
    return {
        "source": str(config_path),
        "seconds": round(elapsed_s, 3),
        "hardware_sync": config.camera_sync.hardware,
        "sets_per_s": round(stats["sets"] / elapsed_s, 1),
        **stats,
    }


def camera_set_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """`check_cameras`' result as (what, value) rows."""
    rows = [
        ("source", result["source"]),
        *(
            (f"camera {name}", f"{cam['frames']} frames, {cam['errors']} errors")
            for name, cam in result["cameras"].items()
        ),
        ("primary camera", result["primary"]),
        ("hardware sync", "on" if result["hardware_sync"] else "off (free-running)"),
        ("frame sets", f"{result['sets']} ({result['sets_per_s']}/s)"),
        ("frames left out", result["frames_unused"]),
        ("skew p50 / p99 / max", _skew(result)),
        ("tolerance", f"{result['tolerance_ms']:g} ms"),
    ]
    return [{"what": what, "value": str(value)} for what, value in rows]


def _skew(result: dict[str, Any]) -> str:
    parts = (result["skew_p50_ms"], result["skew_p99_ms"], result["skew_max_ms"])
    return " / ".join(f"{v:.1f}" for v in parts) + " ms"

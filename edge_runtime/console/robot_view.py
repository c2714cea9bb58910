"""What the Robot page shows, read from what the runtime publishes (never from the loop).

Sources, all files in the state directory: `live/status.json` and `live/run.json` from
`edge_runtime.field.live`, the latch and ack log (`edge_runtime.field.latch`), the bundle
slots (`edge_runtime.field.slots`). Each poll reads a few kilobytes; the browser polls at
`POLL_HZ`, so the console costs the robot a file read per poll and nothing in its loop.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.field.latch import StopLatch
from edge_runtime.field.live import (
    RUN_FILE,
    STATUS_FILE,
    VIEWER_FILE,
    live_dir,
    preview_path,
)
from edge_runtime.field.slots import SLOTS, BundleSlots

POLL_HZ = 5.0
LIVE_FRESH_S = 2.0  # a status older than this is a run that ended or was killed


def robot_state(state_dir: Path) -> dict[str, Any]:
    """running / latched / idle, with the newest live values and the slots, as JSON."""
    live = _read_json(live_dir(state_dir) / STATUS_FILE)
    running = is_running(state_dir, live)
    latch = StopLatch(state_dir)
    stop = latch.read()
    acks = latch.acknowledgements()
    state = "running" if running else "latched" if stop is not None else "idle"
    return {
        "state": state,
        "live": live,
        "latched": asdict(stop) if stop is not None else None,
        "last_ack": asdict(acks[-1]) if acks else None,
        "slots": slot_rows(state_dir),
        "poll_hz": POLL_HZ,
    }


def is_running(state_dir: Path, live: dict[str, Any] | None = None) -> bool:
    """A run is going: its publisher's process is alive and its status is fresh."""
    live = live if live is not None else _read_json(live_dir(state_dir) / STATUS_FILE)
    run = _read_json(live_dir(state_dir) / RUN_FILE)
    if not live or not run or live.get("state") == "stopped":
        return False
    fresh = time.time() - float(live.get("updated_unix_s", 0.0)) < LIVE_FRESH_S
    return fresh and _alive(int(run.get("pid", 0)))


def slot_rows(state_dir: Path) -> list[dict[str, Any]]:
    slots = BundleSlots(state_dir)
    active = slots.active()
    rows = []
    for slot in SLOTS:
        if slots.holds_bundle(slot):
            role = "active" if slot == active else "previous"
            rows.append({"slot": slot, "role": role, **slots.info(slot)})
    return rows


def note_viewer(state_dir: Path) -> None:
    """Tell the publisher someone looks (camera previews are written only then)."""
    path = live_dir(state_dir) / VIEWER_FILE
    # Not ours to write (another user's service): numbers still show, previews do not.
    with contextlib.suppress(OSError):
        path.touch()


def preview_pixels(state_dir: Path, camera: str) -> np.ndarray | None:
    """The newest preview frame of `camera` (RGB, every second pixel); None when none."""
    try:
        return np.load(preview_path(live_dir(state_dir), camera), allow_pickle=False)
    except (OSError, ValueError):
        return None


def preview_jpeg(state_dir: Path, camera: str) -> bytes | None:
    """The newest preview frame of `camera` as JPEG; None when none was published."""
    from PIL import Image

    pixels = preview_pixels(state_dir, camera)
    if pixels is None:
        return None
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's (the service)
    return True

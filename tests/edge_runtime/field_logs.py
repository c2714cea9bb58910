"""Small but complete episode logs for the export tests: RGB-D at 30 fps, ticks at 100 Hz.

Frames arrive with a little jitter (as a real camera's do), the joints follow a known curve
so every exported value can be checked against the log, chunks carry world-model numbers,
events include safety and world-model ones, and the start record holds a bundle identity.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from edge_runtime.pipeline.observer import ActionChunk, TickRecord
from edge_runtime.recording import EpisodeRecorder
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.frame_set import FrameSet
from edge_runtime.sensors.synthetic_scene import scene_frame

JOINTS = ["shoulder", "elbow", "wrist"]
T0_NS = 5 * 10**12
TICK_NS = 10_000_000
FRAME_NS = 33_333_333
IDENTITY = {
    "robot": "test-cell",
    "edgerun": "0.1.0",
    "config_sha256": "c" * 64,
    "calibration": {"joints": "j" * 64},
    "bundle": {"name": "pick", "manifest_sha256": "b" * 64, "key_id": "k1", "exporter": "ref"},
}


def joint_positions(i: int) -> np.ndarray:
    return np.array([0.1, -0.2, 0.3]) + 0.05 * np.sin(i / 7 + np.arange(3))


def write_rgbd_log(
    directory: Path,
    seconds: float = 1.0,
    width: int = 64,
    height: int = 48,
    markers: tuple[tuple[float, str], ...] = (),
    sensors_only: bool = False,
    seed: int = 0,
    wrist_width: int = 0,
) -> Path:
    """Record `seconds` of a synthetic run into `directory` (one segment, no child process).

    With `wrist_width`, frames are sets of two cameras, "scene" (primary) and "wrist" (that
    wide, its own scene), as a multi-camera robot logs them.
    """
    rng = np.random.default_rng(seed)
    rec = EpisodeRecorder(directory, process=False, identity=IDENTITY, frame_queue=4096)
    rec.on_start(JOINTS, TICK_NS / 1e9)
    intr = Intrinsics(width, height, 50.0, 50.0, width / 2, height / 2)
    ticks, frames = round(seconds * 1e9 / TICK_NS), round(seconds * 1e9 / FRAME_NS)
    events = sorted([(T0_NS + round(t * 1e9), "episode", task) for t, task in markers])
    events += [(T0_NS + 250_000_000, "clamp", "elbow above max_rad")]
    events += [(T0_NS + 400_000_000, "world_model_warn", "surprise 3.1 above 2.5")]
    next_frame = 0
    for i in range(ticks):
        start = T0_NS + i * TICK_NS
        pos = joint_positions(i)
        cmd = np.full(3, np.nan) if sensors_only else pos + 0.01
        mode = "record" if sensors_only else "run"
        late = int(rng.integers(5_000, 40_000))
        rec.on_tick(
            TickRecord(i, start, start + late, late, 0, pos, pos * 0, pos * 0, cmd, cmd, mode, 9)
        )
        while next_frame < frames and T0_NS + 2_000_000 + next_frame * FRAME_NS <= start:
            host_ns = T0_NS + 2_000_000 + next_frame * FRAME_NS + int(rng.integers(0, 3_000_000))
            color, depth = scene_frame(next_frame, width, height, seed)
            frame = Frame(color, depth, 0.001, intr, host_ns / 1e6, host_ns, next_frame + 1, "sim")
            if wrist_width:
                frame = _with_wrist(frame, next_frame, wrist_width, seed)
            rec.on_frame(frame)
            if not sensors_only:
                actions = np.stack([pos + 0.01 * k for k in range(4)])
                wm = {"surprise": 0.5 + 0.01 * next_frame, "plan_cost": 1.5}
                chunk = ActionChunk(
                    host_ns, 20_000_000, actions, 3_000_000, next_frame + 1, pos, wm
                )
                rec.on_chunk(chunk)
            next_frame += 1
        while events and events[0][0] <= start:
            t_ns, kind, detail = events.pop(0)
            rec.on_event(kind, detail, t_ns)
    rec.on_stop()
    return directory


def _with_wrist(scene: Frame, index: int, width: int, seed: int) -> FrameSet:
    """The frame as the primary of a set with a wrist camera's frame of the same instant."""
    height = scene.color.shape[0]
    color, depth = scene_frame(index + 1000, width, height, seed + 1)
    intr = Intrinsics(width, height, 40.0, 40.0, width / 2, height / 2)
    wrist = Frame(color, depth, 0.001, intr, scene.device_time_ms, scene.host_time_ns,
                  scene.frame_number, "sim", camera="wrist")  # fmt: skip
    frames = {"scene": replace(scene, camera="scene"), "wrist": wrist}
    return FrameSet.of(frames, "scene", 0.0)

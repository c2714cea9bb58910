"""INT8 calibration data: N observations of the robot's camera and joints, as the model sees them.

Post-training quantization picks activation ranges from calibration inputs, so those inputs
must look like deployment: this robot's camera, lighting, workspace and joint configurations,
not a dataset from elsewhere. The capture only *observes* (it never commands a motor): the
engineer moves the arm by hand with torque off, or lets a teleoperation / demo run, while
frames and joint readings are sampled at an interval. Diversity statistics tell whether the
set covers the workspace (a still robot and a still scene give a useless calibration set).

Layout of `int8_dataset.npz` (read by the export quantizer):
    color                  uint8   (N, H, W, 3)  RGB, as the camera delivered it
    depth                  uint16  (N, H, W)     aligned to color; metres = raw * depth_scale_m
    depth_scale_m          float64 ()
    joint_positions_rad    float32 (N, J)        zero offsets applied if joints.json exists
    joint_velocities_rad_s float32 (N, J)
    motor_ids              int32   (J,)
    joints_calibrated      bool    ()
    host_time_ns           int64   (N,)          time.monotonic_ns() at frame arrival
    frame_number           int64   (N,)
    intrinsics             float64 (4,)          fx, fy, ppx, ppy of color
On a multi-camera robot (frame sets) those images are the primary camera's, and
    cameras                str     (C,)          the set's cameras, primary first
    color.<camera>, depth.<camera>, depth_scale_m.<camera>   each other camera's, as above

With `--preprocess HxW`, `int8_observations.npz` holds what the quantizer reads directly:
`observation.rgbd` (N, 4, H, W), `observation.rgb` (N, 3, H, W), `observation.depth`
(N, 1, H, W) float32, preprocessed by the runtime's own `FramePreprocessor`, and
`observation.joint_positions` (N, J) float32; from frame sets also every camera's by name
(`observation.wrist.rgbd`, ...), as bundles reading a named camera take them.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bundle.manifest import Preprocessing
from edge_runtime.calibration_artifacts import INT8, Device, build_document
from edge_runtime.calibration_artifacts.artifact import write_atomic
from edge_runtime.errors import CalibrationError, StaleFrameError
from edge_runtime.file_hash import sha256_file
from edge_runtime.sensors.base import Camera, Frame
from edge_runtime.sensors.frame_set import FrameSet
from firmware_bridge.base import JointState, MotorBus

NPZ_NAME = "int8_dataset.npz"
STILL_FRAME_DIFF = 1.0  # mean absolute difference (0-255) below which two frames are "the same"


def capture(
    camera: Camera,
    bus: MotorBus,
    count: int,
    interval_s: float = 0.5,
    offsets_rad: np.ndarray | None = None,
    max_age_s: float = 0.5,
    on_sample: Callable[[int, int], None] | None = None,
    frame_timeout_s: float | None = None,
) -> tuple[list[Frame], list[JointState]]:
    """`count` (frame, joint state) pairs, one per `interval_s`, each a fresh frame.

    A camera that delivers no new frame within `frame_timeout_s` (default: 4 intervals, at
    least 1 s) is reported as not streaming.
    """
    if count < 1:
        raise CalibrationError("--count must be at least 1 (a few hundred is typical)")
    frames: list[Frame] = []
    states: list[JointState] = []
    last_version = 0  # the camera's slot starts at version 0, empty
    next_s = time.monotonic()
    while len(frames) < count:
        time.sleep(max(0.0, next_s - time.monotonic()))
        next_s += interval_s
        timeout_s = frame_timeout_s if frame_timeout_s is not None else max(1.0, 4 * interval_s)
        frame, version = camera.wait_frame(last_version, timeout_s=timeout_s)
        if frame is None or version == last_version:
            raise StaleFrameError(f"{camera.name} delivered no new frame; is it streaming?")
        last_version = version
        if frame.age_s() > max_age_s:
            continue  # a stale frame is skipped; the next one is waited for
        state = bus.read_state()
        if not state.ok:
            continue  # a missed read is skipped, not stored as NaN
        if offsets_rad is not None:
            state = JointState(
                state.positions_rad - offsets_rad,
                state.velocities_rad_s,
                state.currents_a,
                state.stamp_ns,
            )
        frames.append(frame)
        states.append(state)
        if on_sample is not None:
            on_sample(len(frames), count)
    return frames, states


def diversity(frames: list[Frame], states: list[JointState]) -> dict[str, Any]:
    positions = np.array([s.positions_rad for s in states])
    small = [f.color[::8, ::8].astype(np.float32) for f in frames]
    diffs = [float(np.mean(np.abs(a - b))) for a, b in itertools.pairwise(small)]
    brightness = [float(im.mean()) for im in small]
    valid_depth = [float(np.mean(f.depth > 0)) for f in frames]
    return {
        "count": len(frames),
        "joint_range_rad": (positions.max(axis=0) - positions.min(axis=0)).round(4).tolist(),
        "joint_std_rad": positions.std(axis=0).round(4).tolist(),
        "still_frame_fraction": float(np.mean([d < STILL_FRAME_DIFF for d in diffs]))
        if diffs
        else 1.0,
        "mean_frame_change": float(np.mean(diffs)) if diffs else 0.0,
        "brightness_range": [min(brightness), max(brightness)],
        "depth_valid_fraction": float(np.mean(valid_depth)),
    }


def warnings_for(stats: dict[str, Any]) -> list[str]:
    notes = []
    if max(stats["joint_range_rad"]) < 0.1:
        notes.append("the joints barely moved; move the arm through its workspace while capturing")
    if stats["still_frame_fraction"] > 0.5:
        notes.append(
            f"{stats['still_frame_fraction']:.0%} of consecutive frames look identical; vary the "
            "scene (objects, arm position) during capture"
        )
    if stats["depth_valid_fraction"] < 0.5:
        notes.append("more than half the depth pixels are empty; check the depth stream")
    return notes


def member_arrays(frames: list[Frame]) -> dict[str, np.ndarray]:
    """The other cameras' images of frame sets (the primary's are the plain arrays)."""
    first = frames[0]
    if not isinstance(first, FrameSet):
        return {}
    others = [name for name in first.cameras if name != first.primary]
    arrays = {"cameras": np.array([first.primary, *others])}
    for name in others:
        members = [f.cameras[name] for f in frames if isinstance(f, FrameSet)]
        arrays[f"color.{name}"] = np.stack([m.color for m in members]).astype(np.uint8)
        arrays[f"depth.{name}"] = np.stack([m.depth for m in members]).astype(np.uint16)
        arrays[f"depth_scale_m.{name}"] = np.float64(members[0].depth_scale_m)
    return arrays


def write_dataset(
    root: Path,
    frames: list[Frame],
    states: list[JointState],
    motor_ids: list[int],
    calibrated: bool,
    serial: str = "",
    preprocessing: Preprocessing | None = None,
    camera: str = "",
) -> tuple[Path, dict[str, Any]]:
    """The `.npz` first, then the artifact that hashes it: a crash leaves no artifact.

    With `preprocessing` (the bundle's), `int8_observations.npz` is written too: the tensors
    the export quantizer reads, keyed by observation source (`camera`: a named camera's,
    `observation.<camera>.rgbd`, as a bundle reading that camera names them).
    """
    intr = frames[0].intrinsics
    arrays = {
        "color": np.stack([f.color for f in frames]).astype(np.uint8),
        "depth": np.stack([f.depth for f in frames]).astype(np.uint16),
        "depth_scale_m": np.float64(frames[0].depth_scale_m),
        "joint_positions_rad": np.array([s.positions_rad for s in states], np.float32),
        "joint_velocities_rad_s": np.array([s.velocities_rad_s for s in states], np.float32),
        "motor_ids": np.array(motor_ids, np.int32),
        "joints_calibrated": np.bool_(calibrated),
        "host_time_ns": np.array([f.host_time_ns for f in frames], np.int64),
        "frame_number": np.array([f.frame_number for f in frames], np.int64),
        "intrinsics": np.array([intr.fx, intr.fy, intr.ppx, intr.ppy], np.float64),
    }
    arrays.update(member_arrays(frames))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    root.mkdir(parents=True, exist_ok=True)
    write_atomic(root / NPZ_NAME, buffer.getvalue())
    stats = diversity(frames, states)
    quality = {**stats, "warnings": warnings_for(stats)}
    data = {
        "file": NPZ_NAME,
        "count": len(frames),
        "arrays": {k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in arrays.items()},
    }
    files = {NPZ_NAME: sha256_file(root / NPZ_NAME)}
    data["observations"] = ""
    if preprocessing is not None:
        from calibration.int8_observations import write_observations

        observed = write_observations(root / NPZ_NAME, preprocessing, camera)
        files[observed.name] = sha256_file(observed)
        data["observations"] = observed.name
    device = Device(camera_serial=serial, motor_ids=tuple(motor_ids))
    return root / NPZ_NAME, build_document(INT8.name, INT8.version, device, quality, data, files)

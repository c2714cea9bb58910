"""INT8 capture → the observation tensors the export quantizer reads.

The quantizer wants one array per observation source (`observation.rgbd`, ...), N samples on
axis 0, preprocessed exactly as the robot will preprocess them. So the conversion runs the
runtime's own `FramePreprocessor` on every captured frame: calibration data and deployment
can never disagree on resizing, normalization or depth scaling.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from edge_runtime.bundle.manifest import OBSERVATION_SOURCES, Preprocessing
from edge_runtime.calibration_artifacts.artifact import write_atomic
from edge_runtime.errors import CalibrationError
from edge_runtime.pipeline.preprocess import FramePreprocessor
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.frame_set import FrameSet

OBSERVATIONS_NAME = "int8_observations.npz"
IMAGE_SOURCES = tuple(s for s in OBSERVATION_SOURCES if s != "observation.joint_positions")


def parse_preprocessing(size: str, depth_max_m: float, mean: str, std: str) -> Preprocessing:
    try:
        height, width = (int(v) for v in size.lower().split("x"))
        rgb_mean = tuple(float(v) for v in mean.split(","))
        rgb_std = tuple(float(v) for v in std.split(","))
    except ValueError as exc:
        raise CalibrationError(
            f"--preprocess {size!r} must be HEIGHTxWIDTH (e.g. 64x64) and --rgb-mean/--rgb-std "
            "three numbers like 0.5,0.5,0.5"
        ) from exc
    if len(rgb_mean) != 3 or len(rgb_std) != 3 or min(height, width) < 1 or min(rgb_std) <= 0:
        raise CalibrationError("--rgb-mean/--rgb-std need three numbers (std > 0), size > 0")
    return Preprocessing(
        (height, width),
        (rgb_mean[0], rgb_mean[1], rgb_mean[2]),
        (rgb_std[0], rgb_std[1], rgb_std[2]),
        depth_max_m,
    )


def observations(npz: Path, spec: Preprocessing, camera: str = "") -> dict[str, np.ndarray]:
    """Every observation source, (N, ...) float32, from an `int8_dataset.npz`.

    The images are the unnamed sources (`observation.rgbd`: the primary camera's), or with
    `camera` (`calibrate int8 --camera wrist`) that camera's, `observation.wrist.rgbd`.
    """
    with np.load(npz, allow_pickle=False) as data:
        cameras = [str(c) for c in data["cameras"]] if "cameras" in data.files else [""]
        images = {
            name: (data[f"color{key}"], data[f"depth{key}"], float(data[f"depth_scale_m{key}"]))
            for name, key in zip(cameras, ["", *(f".{c}" for c in cameras[1:])])
        }
        joints = data["joint_positions_rad"]
    pre = FramePreprocessor(spec)
    stacked: dict[str, list[np.ndarray]] = {}
    for k in range(len(joints)):
        frames = {name: _frame(*image, k, name) for name, image in images.items()}
        frame = frames[""] if "" in frames else FrameSet.of(frames, cameras[0], 0.0)
        for name, tensor in pre.observations(frame, joints[k]).items():
            stacked.setdefault(name, []).append(tensor[0])
    named = f"observation.{camera}." if camera else "observation."
    return {
        name.replace("observation.", named, 1) if name in IMAGE_SOURCES else name: np.stack(values)
        for name, values in stacked.items()
    }


def _frame(color: np.ndarray, depth: np.ndarray, scale: float, k: int, camera: str) -> Frame:
    """Sample `k` of one camera's arrays as the frame the preprocessor takes."""
    intr = Intrinsics(color.shape[2], color.shape[1], 1.0, 1.0, 0.0, 0.0)
    return Frame(color[k], depth[k], scale, intr, 0.0, 0, k, camera=camera)


def write_observations(npz: Path, spec: Preprocessing, camera: str = "") -> Path:
    arrays = observations(npz, spec, camera)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    out = npz.with_name(OBSERVATIONS_NAME)
    write_atomic(out, buffer.getvalue())
    return out

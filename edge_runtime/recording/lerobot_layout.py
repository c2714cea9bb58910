"""LeRobotDataset v3.0 on disk: paths, features, `meta/info.json`, statistics. Pure layout.

Mirrors what lerobot 0.4 writes and reads (tested against the library itself):

    meta/info.json                       codebase_version "v3.0", fps, features, paths, totals
    meta/stats.json                      per feature: min max mean std count q01 q10 q50 q90 q99
    meta/tasks.parquet                   task text (index) -> task_index
    meta/episodes/chunk-000/file-000.parquet   one row per episode: length, tasks, where its
                                         rows and video live, its stats (stats/<feature>/<stat>)
    data/chunk-CCC/file-FFF.parquet      one row per frame (state, action, depth per camera)
    videos/<video key>/chunk-CCC/file-FFF.mp4

Here every episode gets its own data file and video file (file index = episode index within
its chunk of 1000): episodes are written in parallel, and LeRobot reads any file split.
Statistics follow LeRobot: vectors per dimension, color per channel in [0, 1] with shape
(3, 1, 1) from sampled frames, depth as one global value (per-pixel statistics of a
640x480 map would be 300k numbers per statistic for no use).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

CODEBASE_VERSION = "v3.0"
CHUNK_SIZE = 1000  # files per chunk directory, as LeRobot
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
COLOR_KEY = "observation.images.color"
DEPTH_KEY = "observation.depth"
STATE_KEY = "observation.state"
ACTION_KEY = "action"
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
PIXELS_FOR_STATS = 200_000  # image statistics from an even subsample of the sampled pixels
INDEX_FEATURES = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}


def camera_key(camera: str) -> str:
    """The video feature of a multi-camera robot's other camera (the primary's: COLOR_KEY)."""
    return f"observation.images.{camera}"


def depth_key(camera: str) -> str:
    """The depth column of a multi-camera robot's other camera (the primary's: DEPTH_KEY)."""
    return f"{DEPTH_KEY}.{camera}"


def chunk_file(episode_index: int) -> dict[str, int]:
    return {"chunk_index": episode_index // CHUNK_SIZE, "file_index": episode_index % CHUNK_SIZE}


def features(
    joint_names: list[str],
    color_hw: tuple[int, int] | None,
    depth_hw: tuple[int, int] | None,
    video_info: dict[str, Any] | None,
    depth_scale_m: float,
    camera_videos: dict[str, Any] | None = None,
    camera_depths: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The `features` block: state and action named after the joints, camera streams, indices."""
    feats: dict[str, dict[str, Any]] = {
        STATE_KEY: {"dtype": "float32", "shape": [len(joint_names)], "names": joint_names},
        ACTION_KEY: {"dtype": "float32", "shape": [len(joint_names)], "names": joint_names},
    }
    videos = {COLOR_KEY: (color_hw, video_info)} if color_hw is not None else {}
    for key, (hw, info) in (camera_videos or {}).items():  # other cameras: their own videos
        videos[key] = (hw, info)
    for key, (hw, info) in videos.items():
        feats[key] = {
            "dtype": "video",
            "shape": [hw[0], hw[1], 3],
            "names": ["height", "width", "channels"],
            "info": info or {},
        }
    depths = {DEPTH_KEY: (depth_hw, depth_scale_m, COLOR_KEY)} if depth_hw is not None else {}
    for key, (hw, scale_m) in (camera_depths or {}).items():  # other cameras: their own
        depths[key] = (hw, scale_m, camera_key(key[len(DEPTH_KEY) + 1 :]))
    for key, (hw, scale_m, aligned_to) in depths.items():
        feats[key] = {
            "dtype": "uint16",
            "shape": list(hw),
            "names": ["height", "width"],
            "info": {"depth.scale_m": scale_m, "depth.aligned_to": aligned_to},
        }
    return {**feats, **INDEX_FEATURES}


def info_json(
    feats: dict[str, Any], fps: int, episodes: int, frames: int, tasks: int, robot_type: str
) -> dict[str, Any]:
    has_video = any(f["dtype"] == "video" for f in feats.values())
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": episodes,
        "total_frames": frames,
        "total_tasks": tasks,
        "chunks_size": CHUNK_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": fps,
        "splits": {"train": f"0:{episodes}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if has_video else None,
        "features": feats,
    }


def vector_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Per-dimension statistics of (T, D) values (LeRobot: numeric features, axis 0).

    NaN (a joint read that failed: the log keeps it, the dataset too) is left out, so one bad
    read cannot make a training run's normalization NaN.
    """
    values = np.asarray(values, np.float64).reshape(len(values), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column stays NaN
        quantiles = np.nanquantile(values, QUANTILES, axis=0)
        return {
            "min": np.nanmin(values, axis=0),
            "max": np.nanmax(values, axis=0),
            "mean": np.nanmean(values, axis=0),
            "std": np.nanstd(values, axis=0),
            "count": np.array([int(np.isfinite(values).all(axis=1).sum())]),
            **{f"q{round(q * 100):02d}": quantiles[i] for i, q in enumerate(QUANTILES)},
        }


def _subsample(rows: np.ndarray) -> np.ndarray:
    step = max(1, len(rows) // PIXELS_FOR_STATS)
    return rows[::step]


def color_stats(samples: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel statistics of (N, H, W, 3) uint8 samples, in [0, 1], shape (3, 1, 1)."""
    pixels = _subsample(samples.reshape(-1, 3)).astype(np.float32) / 255.0
    stats = vector_stats(pixels)
    stats = {k: v.reshape(3, 1, 1) for k, v in stats.items() if k != "count"}
    return {**stats, "count": np.array([len(samples)])}


def depth_stats(samples: np.ndarray, frames: int) -> dict[str, np.ndarray]:
    """One global value per statistic of sampled depth pixels (raw units), shape (1,)."""
    stats = vector_stats(_subsample(samples.reshape(-1, 1)))
    return {**stats, "count": np.array([frames])}


def aggregate(stats: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Statistics of several episodes together, as LeRobot's `aggregate_feature_stats`."""
    stats = [s for s in stats if s["count"][0] > 0] or stats  # an episode of failed reads
    means = np.stack([s["mean"] for s in stats])
    counts = np.array([float(s["count"][0]) for s in stats])
    weights = counts.reshape((-1,) + (1,) * (means.ndim - 1))
    total = float(counts.sum())
    mean = (means * weights).sum(axis=0) / total
    spread = np.stack([s["std"] for s in stats]) ** 2 + (means - mean) ** 2
    result = {
        "min": np.min(np.stack([s["min"] for s in stats]), axis=0),
        "max": np.max(np.stack([s["max"] for s in stats]), axis=0),
        "mean": mean,
        "std": np.sqrt((spread * weights).sum(axis=0) / total),
        "count": np.array([int(total)]),
    }
    for key in (k for k in stats[0] if k.startswith("q")):
        result[key] = (np.stack([s[key] for s in stats]) * weights).sum(axis=0) / total
    return result


def to_json(stats: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, Any]]:
    return {ft: {k: np.asarray(v).tolist() for k, v in s.items()} for ft, s in stats.items()}

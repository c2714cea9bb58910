"""Open-loop replay: a recorded episode's frames and joint states through a (new) policy.

The regression test for a model on field data. For every recorded frame, the joint
positions the robot's policy was given (recorded with its chunk when the runtime provides
them, otherwise the last tick at or before the frame's host time) and the frame go through
`policy.act`; the predicted chunk is compared per joint with

- the chunk the robot's policy produced for that same frame (when chunks were recorded), and
- the commands the robot actually sent at the chunk's action times (ticks in "run" mode),

as RMSE and max absolute error in radians. Two passes: ticks and chunks first (small), then
frames one at a time, so a long episode never sits in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edge_runtime.recording.format import LogError
from edge_runtime.recording.identity import bundle_identity, bundle_mismatch
from edge_runtime.recording.logged_frames import LoggedFrames
from edge_runtime.recording.reader import LogReader
from edge_runtime.sensors.base import Frame


class Policy(Protocol):
    def act(self, frame: Frame, joint_positions: np.ndarray) -> np.ndarray: ...


@dataclass
class ErrorStats:
    """Running per-joint squared-error sums and maxima."""

    joints: int
    count: int = 0
    sq: np.ndarray = field(init=False)
    worst: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.sq = np.zeros(self.joints)
        self.worst = np.zeros(self.joints)

    def add(self, predicted: np.ndarray, reference: np.ndarray) -> None:
        err = np.abs(np.asarray(predicted, float) - np.asarray(reference, float)).reshape(
            -1, self.joints
        )
        err = err[np.isfinite(err).all(axis=1)]
        self.count += len(err)
        self.sq += (err**2).sum(axis=0)
        if len(err):
            self.worst = np.maximum(self.worst, err.max(axis=0))

    def rmse(self) -> list[float | None]:
        if not self.count:
            return [None] * self.joints
        return [round(float(v), 6) for v in np.sqrt(self.sq / self.count)]

    def max(self) -> list[float | None]:
        return [round(float(v), 6) for v in self.worst] if self.count else [None] * self.joints


def _load_ticks_and_chunks(reader: LogReader) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    start: dict[str, Any] = {}
    times, positions, commands, running = [], [], [], []
    chunks: dict[int, dict[str, Any]] = {}
    for rec in reader:
        kind = rec.get("k")
        if kind == "tick":
            times.append(rec["start_ns"])
            positions.append(rec["pos"])
            commands.append(rec["cmd"])
            running.append(rec["mode"] == "run")
        elif kind == "chunk":
            chunks[rec["n"]] = rec
        elif kind == "start" and not start:
            start = rec
    if not times:
        raise LogError(f"{reader.path} has no tick records (joint states); replay needs them")
    ticks = {
        "joints": start.get("joints", []),
        "bundle": start.get("bundle"),
        "t": np.asarray(times, np.int64),
        "pos": np.asarray(positions, float),
        "cmd": np.asarray(commands, float),
        "run": np.asarray(running, bool),
    }
    return ticks, chunks


def replay(
    path: str | Path,
    policy: Policy,
    joint_names: list[str],
    dt_s: float,
    max_frames: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Replay the log at `path` through `policy`; per-joint errors as a JSON-ready dict."""
    reader = LogReader(path)
    ticks, chunks = _load_ticks_and_chunks(reader)
    if ticks["joints"] and list(ticks["joints"]) != list(joint_names):
        raise LogError(
            f"{path} was recorded with joints {ticks['joints']} but the bundle drives "
            f"{list(joint_names)}; replay it with a bundle for the same robot"
        )
    n_joints = ticks["pos"].shape[1]
    vs_chunk, vs_command = ErrorStats(n_joints), ErrorStats(n_joints)
    frames = skipped = 0
    dt_ns = round(dt_s * 1e9)
    logged = LoggedFrames(reader)  # frame sets put back together on multi-camera robots
    for frame in logged:
        if max_frames is not None and frames >= max_frames:
            break
        chunk = chunks.get(frame.frame_number)
        if chunk is not None and "joints" in chunk:
            joints = chunk["joints"]  # exactly what the robot's policy was given
        else:
            at = int(np.searchsorted(ticks["t"], frame.host_time_ns, side="right")) - 1
            if at < 0:
                skipped += 1  # before the first joint state: nothing to pair it with
                continue
            joints = ticks["pos"][at]
        predicted = np.asarray(policy.act(frame, joints), float)
        frames += 1
        if chunk is not None and chunk["actions"].shape == predicted.shape:
            vs_chunk.add(predicted, chunk["actions"])
        t_obs = chunk["t_obs_ns"] if chunk is not None else frame.host_time_ns
        step = chunk["dt_ns"] if chunk is not None else dt_ns
        wanted = t_obs + step * np.arange(len(predicted))
        idx = np.searchsorted(ticks["t"], wanted)
        ok = (idx < len(ticks["t"])) & ticks["run"][np.minimum(idx, len(ticks["t"]) - 1)]
        if ok.any():
            vs_command.add(predicted[ok], ticks["cmd"][idx[ok]])
        if progress is not None:
            progress(frames)
    per_joint = [
        {
            "joint": name,
            "rmse_vs_chunk_rad": vs_chunk.rmse()[j],
            "max_vs_chunk_rad": vs_chunk.max()[j],
            "rmse_vs_command_rad": vs_command.rmse()[j],
            "max_vs_command_rad": vs_command.max()[j],
        }
        for j, name in enumerate(joint_names[:n_joints])
    ]
    return {
        "log": str(path),
        "frames": frames,
        "frames_before_first_tick": skipped,
        "incomplete_frame_sets": logged.incomplete_sets,
        "chunk_actions_compared": vs_chunk.count,
        "command_actions_compared": vs_command.count,
        "per_joint": per_joint,
        "corrupt_tail": reader.report.corrupt_tail,
        "problems": reader.report.problems(),
        "recorded_bundle": ticks["bundle"],
        "warnings": [],
    }


def replay_bundle(
    path: str | Path,
    bundle_path: str | Path,
    trusted_keys: list[str],
    allow_unsigned: bool,
    backend: str = "auto",
    max_frames: int | None = None,
) -> dict[str, Any]:
    """`edgerun replay`: open and check the bundle, replay the log through its policy."""
    from edge_runtime.bundle import open_bundle
    from edge_runtime.pipeline.policy import BundlePolicy

    if max_frames is not None and max_frames < 1:
        raise LogError(f"--max-frames {max_frames} is invalid: must be >= 1")
    bundle = open_bundle(bundle_path, trusted_keys=trusted_keys, development_mode=allow_unsigned)
    policy = BundlePolicy(bundle, backend=backend, intra_op_threads=1)
    try:
        action = bundle.manifest.action
        result = replay(path, policy, list(action.joint_names), action.dt_s, max_frames)
    finally:
        policy.close()
    result["replayed_bundle"] = bundle_identity(bundle, bundle_path)
    mismatch = bundle_mismatch(result["recorded_bundle"], result["replayed_bundle"])
    if mismatch:
        result["warnings"].append(mismatch)
    return result


# How `edgerun replay` shows the per-joint errors: (key, column title).
COLUMNS = [
    ("joint", "joint"),
    ("rmse_vs_chunk_rad", "RMSE vs recorded chunk"),
    ("max_vs_chunk_rad", "max"),
    ("rmse_vs_command_rad", "RMSE vs sent command"),
    ("max_vs_command_rad", "max"),
]


def replay_caption(result: dict[str, Any]) -> str:
    """What `replay_bundle` compared, under its per-joint table."""
    return (
        f"{result['frames']} frames, {result['chunk_actions_compared']} chunk actions and "
        f"{result['command_actions_compared']} commands compared (radians)"
    )

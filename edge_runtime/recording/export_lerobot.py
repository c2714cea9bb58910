"""`edgerun log export --format lerobot`: episode logs into one LeRobotDataset v3.0.

Written directly with pyarrow and PyAV rather than through LeRobot's own writer: LeRobot's
`add_frame`/`save_episode` decodes every frame, writes it as a PNG and re-encodes it to AV1,
which is far slower than real time on one core and needs torch; here the log's JPEG bytes go
into the MP4 unchanged (`video_file`), joint arrays go into parquet as they are, and nothing
heavier than pyarrow and PyAV is imported. The output is tested against the real library
(`LeRobotDataset(repo_id, root=DIR)` loads it and returns the log's values).

Three steps: scan every log (in parallel), plan one fixed-rate grid per episode and give each
episode its global index and frame offset, then write every log's episodes (in parallel, one
data file and one video per episode), and finally the metadata.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.recording import lerobot_layout as layout
from edge_runtime.recording.episodes import GridEpisode, LogScan, grid_episodes, scan_log
from edge_runtime.recording.export_jobs import check_new_output, run_jobs
from edge_runtime.recording.format import LogError
from edge_runtime.recording.lerobot_episode import EpisodeJob, write_log_episodes

DEFAULT_TASK = "edgerun episode"


@dataclass(frozen=True)
class LeRobotOptions:
    out: Path
    task: str | None = None  # one task text for every episode (else markers', else default)
    fps: int | None = None  # None: the first log's measured camera rate
    video_codec: str = "mjpeg"
    depth: bool = True
    jobs: int | None = None  # local processes; None: one per core
    ray_address: str | None = None  # an existing Ray cluster instead of local processes


@dataclass
class _Plan:
    fps: int
    joint_names: list[str]
    tasks: dict[str, int] = field(default_factory=dict)
    jobs: list[EpisodeJob] = field(default_factory=list)
    frames: int = 0


def _plan(scans: list[LogScan], options: LeRobotOptions) -> _Plan:
    first = scans[0]
    fps = options.fps or first.default_fps()
    if fps <= 0:
        raise LogError(f"cannot tell the frame rate of {first.path}; pass --fps")
    plan = _Plan(fps=fps, joint_names=first.joint_names)
    episode_index = 0
    for scan in scans:
        if scan.joint_names != plan.joint_names:
            raise LogError(
                f"{scan.path} has joints {scan.joint_names} but {first.path} has "
                f"{plan.joint_names}; export logs of one robot into one dataset"
            )
        episodes: list[GridEpisode] = grid_episodes(scan, fps)
        tasks = [options.task or e.task or DEFAULT_TASK for e in episodes]
        for task in tasks:
            plan.tasks.setdefault(task, len(plan.tasks))
        if not episodes:
            continue
        plan.jobs.append(
            EpisodeJob(
                out=options.out,
                log=scan.path,
                episodes=episodes,
                first_episode=episode_index,
                first_frame=plan.frames,
                task_indices=[plan.tasks[t] for t in tasks],
                tasks=tasks,
                video_codec=options.video_codec,
                depth=options.depth,
                bundle_sha256=str((scan.start.get("bundle") or {}).get("manifest_sha256", "")),
            )
        )
        episode_index += len(episodes)
        plan.frames += sum(len(e) for e in episodes)
    if not plan.jobs:
        raise LogError("the logs hold no frames or joint states to export")
    return plan


def export_lerobot(logs: list[Path], options: LeRobotOptions) -> dict[str, Any]:
    """Write `logs` as one LeRobotDataset at `options.out`; a summary of what was written."""
    began = time.perf_counter()
    check_new_output(options.out)
    scans = run_jobs(scan_log, logs, options.jobs, options.ray_address)
    plan = _plan(scans, options)
    results = run_jobs(write_log_episodes, plan.jobs, options.jobs, options.ray_address)
    episodes = [episode for per_log in results for episode in per_log]
    _write_meta(options.out, plan, episodes, str(scans[0].start.get("robot") or "edgerun"))
    seconds = time.perf_counter() - began
    grids = [e for job in plan.jobs for e in job.episodes]
    return {
        "out": str(options.out),
        "format": "lerobot",
        "codebase_version": layout.CODEBASE_VERSION,
        "logs": len(logs),
        "episodes": len(episodes),
        "frames": plan.frames,
        "fps": plan.fps,
        "tasks": list(plan.tasks),
        "video_codec": options.video_codec,
        "seconds": round(seconds, 3),
        "frames_per_s": round(plan.frames / seconds, 1) if seconds > 0 else 0.0,
        # failed joint reads are NaN in the log and the dataset; statistics leave them out
        "rows_missing_state": sum(int(np.isnan(e.state).any(axis=1).sum()) for e in grids),
        "problems": [p for scan in scans for p in scan.problems],
    }


def _write_meta(out: Path, plan: _Plan, episodes: list[dict[str, Any]], robot: str) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = episodes[0]

    def mode(episode: dict[str, Any]) -> tuple[Any, ...]:
        cameras = (list(episode.get(k, {})) for k in ("camera_videos", "camera_depths"))
        return (episode["color_hw"], episode["depth_hw"], *cameras)

    for episode in episodes:
        if mode(episode) != mode(first):
            raise LogError(
                f"{episode['edgerun/log']} has {episode['color_hw']} images but "
                f"{first['edgerun/log']} has {first['color_hw']}; export logs of one camera mode"
            )
    feats = layout.features(
        plan.joint_names,
        first["color_hw"],
        first["depth_hw"],
        first["video_info"],
        first["depth_scale_m"],
        first.get("camera_videos"),
        first.get("camera_depths"),
    )
    stats = {
        key: layout.aggregate([e["stats"][key] for e in episodes if key in e["stats"]])
        for key in first["stats"]
    }
    meta = out / "meta"
    (meta / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    info = layout.info_json(feats, plan.fps, len(episodes), plan.frames, len(plan.tasks), robot)
    (meta / "info.json").write_text(json.dumps(info, indent=4))
    (meta / "stats.json").write_text(json.dumps(layout.to_json(stats), indent=4))
    tasks = pd.DataFrame({"task_index": list(plan.tasks.values())}, index=list(plan.tasks))
    tasks.to_parquet(meta / "tasks.parquet")
    rows = [{k: v for k, v in e.items() if k in e["columns"]} for e in episodes]
    for row, episode in zip(rows, episodes):
        for key, values in episode["stats"].items():
            for stat, value in values.items():
                row[f"stats/{key}/{stat}"] = np.asarray(value).tolist()
    pq.write_table(pa.Table.from_pylist(rows), out / layout.EPISODES_PATH)

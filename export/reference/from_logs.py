"""Episode logs -> the reference trainer's `Demonstrations`, row for row as the robot saw them.

A recorded run (`edgerun run --record`, `edgerun demo --record`) is resampled with the same
grid code the LeRobot exporter uses (`edge_runtime.recording.episodes`), at one row per
world-model step (step_s = 0.1 s: the spacing the predictor and the policy were trained on):

* observation: the frame nearest the row, through the runtime's own `FramePreprocessor`
  (nearest-neighbour resize to the models' 96x128 when the camera differs, then `rgbd_tensor`),
  so training sees exactly the tensor the robot fed the encoder;
* joints: the measured positions of the last tick at or before the row (the log's values);
* action chunk: the commands the log shows over the CHUNK action steps (dt each) after the
  row, each step the time-weighted command in force over it (`world_model.executed`, what the
  runtime's monitor feeds the predictor): what the robot actually did after that observation,
  which with `hold` interpolation is exactly the held action;
* executed: the first K of those, the targets commanded until the next row;
* next_index: the following row of the same episode, when it is usable too.

The task cost (the tool point's distance to the goal) is simulator knowledge a log does not
have: it is NaN here, and the trainer leaves NaN rows out of the cost-head loss (the head keeps
learning from the simulator episodes mixed in, so it follows the fine-tuned encoder).

Rows are dropped, not guessed: a failed joint read (NaN), a frame more than half a step away
from the row (lost frames), a tick older than two control periods, or a chunk window past the
end of the log. A log that cannot be used at all is reported in one sentence and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.bundle.manifest import Preprocessing
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.pipeline.preprocess import FramePreprocessor
from edge_runtime.recording.episodes import (
    GridEpisode,
    LogScan,
    frames_for_rows,
    grid_episodes,
    scan_log,
)
from edge_runtime.recording.reader import segment_paths
from edge_runtime.recording.records import frame_from_record
from edge_runtime.world_model.executed import executed_actions
from export.errors import ExportError
from export.reference.data import DEPTH_MAX_M, RGB_MEAN, RGB_STD, Demonstrations, concatenate


@dataclass(frozen=True)
class LogTiming:
    """The checkpoint's timing contract (docs/world-model.md), in the log's nanoseconds."""

    joint_names: tuple[str, ...]
    chunk_length: int
    actions_per_step: int
    dt_ns: int

    @property
    def step_ns(self) -> int:
        return self.actions_per_step * self.dt_ns

    @classmethod
    def reference(cls) -> LogTiming:
        from edge_runtime.sim.expert import ChunkSpec
        from edge_runtime.sim.world import JOINT_NAMES
        from export.reference.models import CHUNK, STEP_ACTIONS

        return cls(JOINT_NAMES, CHUNK, STEP_ACTIONS, round(ChunkSpec().dt_s * 1e9))


def log_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Each path as logs: a log directory, one .erlog segment, or a directory of log
    directories (what a session of `--record` runs into one parent leaves)."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir() and not any(path.glob("episode-*.erlog")):
            inner = sorted(p for p in path.iterdir() if p.is_dir() and any(p.glob("*.erlog")))
            if inner:
                out.extend(inner)
                continue
        segment_paths(path)  # one sentence when the path is not a log
        out.append(path)
    return out


def demonstrations_from_logs(
    paths: Iterable[str | Path],
    timing: LogTiming | None = None,
    echo: Callable[[str], None] = print,
) -> Demonstrations:
    """The usable rows of every log as one training set; `ExportError` when none is usable."""
    timing = timing or LogTiming.reference()
    parts: list[Demonstrations | None] = []
    skipped = 0
    for path in log_paths(paths):
        try:
            demos = log_demonstrations(path, timing)
        except EdgeRuntimeError as exc:
            echo(f"  skipped: {exc}")
            skipped += 1
            continue
        echo(f"  {path}: {demos.episodes} episode(s), {len(demos)} observations")
        parts.append(demos)
    return _joined(
        parts,
        f"none of the {skipped} episode log(s) given holds usable training data (see the "
        "reasons above); record runs of this robot with `edgerun run --record DIR`",
    )


def log_demonstrations(path: Path, timing: LogTiming) -> Demonstrations:
    """One log's usable rows; `ExportError` (one sentence) when the log cannot be used."""
    scan = scan_log(path)
    _check_usable(scan, timing)
    episodes = grid_episodes(scan, 1e9 / timing.step_ns)
    return _joined(
        [_episode_rows(scan, episode, timing) for episode in episodes],
        f"episode log {path} has no stretch of {timing.chunk_length * timing.dt_ns / 1e9:.2f} s "
        "with frames, joint states and commands; it is too short or damaged beyond use",
    )


def _joined(parts: list[Demonstrations | None], refusal: str) -> Demonstrations:
    """The parts as one training set; `ExportError(refusal)` when there is none."""
    kept = [p for p in parts if p is not None]
    if not kept:
        raise ExportError(refusal)
    return concatenate(kept)


def _check_usable(scan: LogScan, timing: LogTiming) -> None:
    where = f"episode log {scan.path}"
    if tuple(scan.joint_names) != timing.joint_names:
        raise ExportError(
            f"{where} records joints {scan.joint_names}, the reference checkpoint drives "
            f"{list(timing.joint_names)}; train only on logs of this robot"
        )
    if not len(scan.frame_t_ns):
        raise ExportError(f"{where} has no camera frames; the models learn from images")
    if not np.isfinite(scan.commands_rad).all(axis=1).any():
        raise ExportError(
            f"{where} holds no joint commands (a sensors-only recording); the policy learns "
            "from what the robot was told to do, so record with `edgerun run --record`"
        )


def _episode_rows(scan: LogScan, episode: GridEpisode, timing: LogTiming) -> Demonstrations | None:
    """The episode's usable rows, observations decoded and preprocessed; None when none is."""
    period_ns = round(1e9 / scan.tick_rate_hz()) if scan.tick_rate_hz() > 0 else timing.dt_ns
    rows = len(episode)
    actions = np.full((rows, timing.chunk_length, len(timing.joint_names)), np.nan)
    for r, t_ns in enumerate(episode.t_ns):
        chunk = executed_actions(
            scan.tick_t_ns, scan.commands_rad, int(t_ns), timing.chunk_length, timing.dt_ns
        )
        if chunk is not None:
            actions[r] = chunk
    frame_gap_ns = np.abs(scan.frame_t_ns[episode.frame_ordinal] - episode.t_ns)
    tick_age_ns = episode.t_ns - scan.tick_t_ns[episode.tick_index]
    usable = (
        np.isfinite(actions).all(axis=(1, 2))
        & np.isfinite(episode.state).all(axis=1)
        & (frame_gap_ns <= timing.step_ns // 2)
        & (tick_age_ns <= 2 * period_ns)
    )
    if not usable.any():
        return None
    kept = np.flatnonzero(usable)
    rgbd = _observations(scan.path, episode, kept)
    position = np.full(rows, -1)
    position[kept] = np.arange(len(kept))
    following = np.append(position[1:], -1)[kept]  # the next row's position, -1 if dropped
    return Demonstrations(
        rgbd=rgbd,
        joints=episode.state[kept].astype(np.float32),
        actions=actions[kept].astype(np.float32),
        executed=actions[kept, : timing.actions_per_step].astype(np.float32),
        distance_m=np.full(len(kept), np.nan, np.float32),  # privileged: not in a log
        next_index=following.astype(np.int64),
        episodes=1,
        expert_success=float("nan"),  # nobody scored a field episode
    )


def _observations(path: Path, episode: GridEpisode, kept: np.ndarray) -> np.ndarray:
    """(len(kept), 4, H, W) float16 encoder inputs, as the runtime preprocesses frames."""
    from export.reference.models import IMAGE_HW

    preprocess = FramePreprocessor(Preprocessing(IMAGE_HW, RGB_MEAN, RGB_STD, DEPTH_MAX_M))
    out = np.empty((len(kept), 4, *IMAGE_HW), np.float16)
    wanted = {int(row): i for i, row in enumerate(kept)}
    for row, record in frames_for_rows(path, episode.frame_ordinal):
        if row in wanted:
            frame = frame_from_record(record)
            tensor = preprocess.observations(frame, episode.state[row])["observation.rgbd"]
            out[wanted[row]] = tensor[0]
    return out

"""An episode log as training data: per-episode arrays on a fixed-rate grid, frames on demand.

Robot-learning datasets (LeRobotDataset, the reference trainer) are sampled at one fixed rate:
row k of an episode is time t0 + k/fps, and a video's frame k must sit exactly at k/fps. A log
is not like that: frames arrive with jitter and gaps, ticks run at the control rate. So an
episode is resampled once, here, on the log's own monotonic clock:

- the grid starts at the first frame at or after the first tick (every row then has a joint
  state) and ends at the last frame (logs without frames: on the ticks, at the tick rate);
- each row takes the recorded frame nearest its time, and the last tick at or before it:
  `state` = that tick's measured positions, `action` = the command that tick sent (what the
  robot did with that observation, LeRobot's pairing). Sensors-only logs sent no command (NaN):
  their action is the next row's measured position, the usual label for demonstrations.

Values are the log's, never interpolated. A log splits into several episodes at `event`
records of kind "episode" (their detail is the task text); otherwise it is one episode.

Two passes, so a long log never sits in memory: `scan_log` reads everything but pixels and
plans the grid; `frames_for_rows` then streams the frame records each row needs, in row order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.recording.format import LogError
from edge_runtime.recording.logged_frames import is_primary_frame
from edge_runtime.recording.reader import LogReader
from edge_runtime.recording.records import frame_from_record
from edge_runtime.sensors.base import Frame

MARKER_KIND = "episode"  # an event of this kind starts an episode; its detail is the task


@dataclass
class LogScan:
    """One pass over a log, pixels left out: what every exporter needs to plan its output."""

    path: Path
    start: dict[str, Any]
    tick_t_ns: np.ndarray  # (N,) int64, tick start times
    positions_rad: np.ndarray  # (N, J)
    velocities_rad_s: np.ndarray  # (N, J)
    commands_rad: np.ndarray  # (N, J), NaN when nothing was sent
    frame_t_ns: np.ndarray  # (F,) int64 arrival times, in the order the log holds frames
    frame_numbers: np.ndarray  # (F,) int64
    markers: list[tuple[int, str]] = field(default_factory=list)  # (t_ns, task)
    problems: list[str] = field(default_factory=list)

    @property
    def joint_names(self) -> list[str]:
        names = list(self.start.get("joints", []))
        return names or [f"joint_{j}" for j in range(self.positions_rad.shape[1])]

    def frame_rate_hz(self) -> float:
        """The camera's configured rate, else its measured one (median frame interval)."""
        configured = (self.start.get("camera") or {}).get("fps")
        if configured and len(self.frame_t_ns):
            return float(configured)
        if len(self.frame_t_ns) < 2:
            return 0.0
        interval_ns = float(np.median(np.diff(np.sort(self.frame_t_ns))))
        return 1e9 / interval_ns if interval_ns > 0 else 0.0

    def default_fps(self) -> int:
        """A dataset's rate for this log: the camera's, or the ticks' for logs without frames."""
        return round(self.frame_rate_hz() or self.tick_rate_hz())

    def tick_rate_hz(self) -> float:
        period = self.start.get("period_s")
        if period:
            return 1.0 / float(period)
        if len(self.tick_t_ns) < 2:
            return 0.0
        return 1e9 / float(np.median(np.diff(self.tick_t_ns)))


def scan_log(path: str | Path) -> LogScan:
    """Everything but the pixels, in one pass; `LogError` when the log has no joint states."""
    reader = LogReader(path)
    start: dict[str, Any] = {}
    ticks: dict[str, list[Any]] = {"t": [], "pos": [], "vel": [], "cmd": []}
    frame_t, frame_n, markers = [], [], []
    for rec in reader:
        kind = rec.get("k")
        if kind == "tick":
            ticks["t"].append(rec["start_ns"])
            ticks["pos"].append(rec["pos"])
            ticks["vel"].append(rec["vel"])
            ticks["cmd"].append(rec["cmd"])
        elif is_primary_frame(rec):  # the grid follows the primary camera (logged_frames)
            frame_t.append(rec["host_ns"])
            frame_n.append(rec["n"])
        elif kind == "event" and rec.get("kind") == MARKER_KIND:
            markers.append((int(rec["t_ns"]), str(rec.get("detail", ""))))
        elif kind == "start" and not start:
            start = rec
    if not ticks["t"]:
        raise LogError(f"{path} has no tick records (joint states); an episode needs them")
    order = np.argsort(np.asarray(ticks["t"], np.int64), kind="stable")
    return LogScan(
        path=Path(path),
        start=start,
        tick_t_ns=np.asarray(ticks["t"], np.int64)[order],
        positions_rad=np.asarray(ticks["pos"], np.float64)[order],
        velocities_rad_s=np.asarray(ticks["vel"], np.float64)[order],
        commands_rad=np.asarray(ticks["cmd"], np.float64)[order],
        frame_t_ns=np.asarray(frame_t, np.int64),
        frame_numbers=np.asarray(frame_n, np.int64),
        markers=sorted(markers),
        problems=reader.report.problems(),
    )


@dataclass
class GridEpisode:
    """One episode resampled on a fixed-rate grid (see the module docstring)."""

    log: Path
    index: int  # episode within its log
    task: str
    fps: float
    joint_names: list[str]
    t_ns: np.ndarray  # (T,) int64 row times on the log's monotonic clock
    state: np.ndarray  # (T, J) measured joint positions, rad
    action: np.ndarray  # (T, J) commands sent, rad
    tick_index: np.ndarray  # (T,) which tick each row took
    frame_ordinal: np.ndarray  # (T,) which frame record (order in the log), -1 without frames

    def __len__(self) -> int:
        return len(self.t_ns)

    @property
    def timestamps_s(self) -> np.ndarray:
        """Row times from the episode's start, exactly k/fps."""
        return np.arange(len(self.t_ns)) / self.fps


def episode_spans(scan: LogScan) -> list[tuple[int, int, str]]:
    """(begin ns, end ns, task) of each episode: the markers' segments, or the whole log."""
    t_end = int(max(scan.tick_t_ns[-1], scan.frame_t_ns.max(initial=0)))
    if not scan.markers:
        return [(int(scan.tick_t_ns[0]), t_end, "")]
    bounds = [t for t, _ in scan.markers] + [t_end + 1]
    return [(bounds[i], bounds[i + 1] - 1, task) for i, (_, task) in enumerate(scan.markers)]


def grid_episodes(scan: LogScan, fps: float) -> list[GridEpisode]:
    """The log's episodes resampled at `fps`; episodes with no row are left out."""
    if fps <= 0:
        raise LogError(f"cannot resample {scan.path} at {fps} frames/s: the rate must be > 0")
    order = np.argsort(scan.frame_t_ns, kind="stable")
    frame_t = scan.frame_t_ns[order]
    episodes = []
    for begin, end, task in episode_spans(scan):
        first_tick = max(begin, int(scan.tick_t_ns[0]))
        if len(frame_t):
            inside = frame_t[(frame_t >= first_tick) & (frame_t <= end)]
            if not len(inside):
                continue
            t0, t_last = int(inside[0]), int(inside[-1])
        else:
            ticks = scan.tick_t_ns[(scan.tick_t_ns >= first_tick) & (scan.tick_t_ns <= end)]
            if not len(ticks):
                continue
            t0, t_last = int(ticks[0]), int(ticks[-1])
        rows = int(np.floor((t_last - t0) * fps / 1e9 + 1e-6)) + 1
        t_ns = t0 + np.round(np.arange(rows) * (1e9 / fps)).astype(np.int64)
        tick = np.searchsorted(scan.tick_t_ns, t_ns, side="right") - 1
        ordinal = _nearest(frame_t, t_ns, order) if len(frame_t) else np.full(rows, -1)
        state = scan.positions_rad[tick]
        action = scan.commands_rad[tick].copy()
        unsent = np.isnan(action).all(axis=1)
        if unsent.any():  # sensors only: label with the position reached next
            following = np.minimum(np.arange(rows) + 1, rows - 1)
            action[unsent] = state[following][unsent]
        episodes.append(
            GridEpisode(
                scan.path,
                len(episodes),
                task,
                fps,
                scan.joint_names,
                t_ns,
                state,
                action,
                tick,
                ordinal,
            )
        )
    return episodes


def _nearest(sorted_t: np.ndarray, wanted: np.ndarray, order: np.ndarray) -> np.ndarray:
    """For each wanted time, the log position of the frame nearest in time."""
    right = np.clip(np.searchsorted(sorted_t, wanted), 0, len(sorted_t) - 1)
    left = np.clip(right - 1, 0, len(sorted_t) - 1)
    take_left = np.abs(wanted - sorted_t[left]) <= np.abs(sorted_t[right] - wanted)
    return order[np.where(take_left, left, right)]


def frames_for_rows(path: str | Path, ordinals: np.ndarray) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row, frame record) for every row, in row order, pixels still compressed.

    One pass over the log's primary frame records; a record is held only until its last row is
    out, so this streams when rows follow the log's order (they do: frames are logged on
    arrival). On a multi-camera robot the other cameras' records of a set (logged right after
    its primary record) come along in the record's `members`, by camera name.
    """
    last_row: dict[int, int] = {}
    for row, ordinal in enumerate(ordinals):
        last_row[int(ordinal)] = row
    held: dict[int, dict[str, Any]] = {}
    state = {"row": 0}

    def due(upto: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows whose record (and its set's members) is complete: ordinals up to `upto`."""
        while state["row"] < len(ordinals) and int(ordinals[state["row"]]) in held:
            wanted = int(ordinals[state["row"]])
            if wanted > upto:
                return
            yield state["row"], held[wanted]
            if last_row[wanted] == state["row"]:
                del held[wanted]
            state["row"] += 1

    ordinal = -1
    latest: dict[str, Any] | None = None  # the held primary record the members join
    for rec in LogReader(path):
        if rec.get("k") != "frame":
            continue
        if not is_primary_frame(rec):
            if latest is not None:
                latest.setdefault("members", {})[rec["cam"]] = rec
            continue
        yield from due(ordinal)  # the previous set is complete now
        ordinal += 1
        latest = rec if ordinal in last_row else None
        if latest is not None:
            held[ordinal] = latest
    yield from due(ordinal)
    if state["row"] < len(ordinals):
        raise LogError(f"{path} changed while it was read: frame records went missing")


def read_episodes(
    path: str | Path, fps: float | None = None, with_frames: bool = True
) -> Iterator[tuple[GridEpisode, list[Frame]]]:
    """Per episode of a log: its grid arrays and (`with_frames`) one decoded `Frame` per row.

    The reader for training from field logs; `fps` defaults to the camera's measured rate
    (the tick rate for logs without frames). Frames of one episode are held in memory.
    """
    scan = scan_log(path)
    rate = fps or scan.default_fps()
    for episode in grid_episodes(scan, rate):
        frames: list[Frame] = []
        if with_frames and episode.frame_ordinal[0] >= 0:
            frames = [
                frame_from_record(rec) for _, rec in frames_for_rows(path, episode.frame_ordinal)
            ]
        yield episode, frames

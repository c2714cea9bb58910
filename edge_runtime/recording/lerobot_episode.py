"""One log's episodes into LeRobotDataset files: a parquet of rows and an MP4 per episode.

The unit of parallel work of `export_lerobot` (a local process or a Ray task): everything it
needs travels in an `EpisodeJob` (the planned grids, global indices), and it returns each
episode's metadata row and statistics. Frames stream through in row order; rows are written
in batches, so memory stays at a few frames whatever the episode's length.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.recording import lerobot_layout as layout
from edge_runtime.recording.episodes import GridEpisode, frames_for_rows
from edge_runtime.recording.lerobot_depth import DepthColumn
from edge_runtime.recording.video_file import GridVideoWriter

BATCH_ROWS = 32  # rows per parquet row group: a few MB of depth at 640x480
STAT_SAMPLES = 100  # frames sampled per episode for color and depth statistics
# Depth dominates the bytes: byte-stream-split then LZ4 is 2-3x faster to write than
# dictionary + zstd at the same size, and statistics of 300k values per row are of no use.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": False,
    "write_statistics": ["episode_index", "index", "frame_index", "timestamp", "task_index"],
}


def parquet_options(depth_keys: list[str]) -> dict[str, Any]:
    """PARQUET_OPTIONS with byte-stream-split on each depth column's values (its leaf)."""
    leaves = {f"{key}.list.element.list.element": "BYTE_STREAM_SPLIT" for key in depth_keys}
    return {**PARQUET_OPTIONS, "column_encoding": leaves}


@dataclass(frozen=True)
class EpisodeJob:
    out: Path
    log: Path
    episodes: list[GridEpisode]
    first_episode: int  # global index of episodes[0]
    first_frame: int  # global row index of episodes[0]'s first row
    task_indices: list[int]
    tasks: list[str]
    video_codec: str
    depth: bool
    bundle_sha256: str = ""


def _sample_color(blob: dict[str, Any]) -> np.ndarray:
    """A color frame at about 1/4 size (JPEG DCT scaling: a fraction of a full decode)."""
    from PIL import Image

    if blob["codec"] == "jpeg":
        image = Image.open(io.BytesIO(blob["data"]))
        image.draft("RGB", (blob["shape"][1] // 4, blob["shape"][0] // 4))
        return np.asarray(image.convert("RGB"))
    return np.frombuffer(blob["data"], np.uint8).reshape(blob["shape"])[::4, ::4]


class CameraVideo:
    """One camera's video of an episode: a frame per row (a row whose frame the recorder
    dropped shows the camera's previous frame, or its first for rows before it)."""

    def __init__(self, path: Path, fps: float, codec: str) -> None:
        self.writer = GridVideoWriter(path, round(fps), codec)
        self.hw: tuple[int, int] | None = None
        self.samples: list[np.ndarray] = []
        self.last: dict[str, Any] | None = None
        self.rows = 0

    def write(self, row: int, color: dict[str, Any] | None, sample: bool) -> None:
        if color is None and self.last is None:
            return  # written once the camera's first frame arrives (`rows` catches up)
        color = color if color is not None else self.last
        assert color is not None
        if self.hw is None:
            self.hw = (int(color["shape"][0]), int(color["shape"][1]))
        while self.rows <= row:
            self.writer.write(color)
            self.rows += 1
        self.last = color
        if sample:
            self.samples.append(_sample_color(color))

    def close(self, rows: int) -> None:
        if self.last is not None:
            while self.rows < rows:
                self.writer.write(self.last)
                self.rows += 1
        self.writer.close()


class _EpisodeWriter:
    """Rows of one episode: the parquet file, the video, the sampled statistics."""

    def __init__(self, job: EpisodeJob, position: int) -> None:
        self.job = job
        self.episode = job.episodes[position]
        self.index = job.first_episode + position
        self.first_frame = job.first_frame + sum(len(e) for e in job.episodes[:position])
        self.task_index = job.task_indices[position]
        self.task = job.tasks[position]
        where = layout.chunk_file(self.index)
        self.data_path = job.out / layout.DATA_PATH.format(**where)
        self.where = where
        # One video and one depth column per camera: the primary's under COLOR_KEY and
        # DEPTH_KEY, the others' under their names.
        self.videos: dict[str, CameraVideo] = {}
        self.depths: dict[str, DepthColumn] = {}
        self.written = 0
        self.writer: Any = None
        rows = len(self.episode)
        self.sampled = set(np.linspace(0, rows - 1, min(rows, STAT_SAMPLES)).astype(int).tolist())

    def add_frame(self, row: int, record: dict[str, Any]) -> None:
        colors = {layout.COLOR_KEY: record.get("color")}
        depths: dict[str, dict[str, Any] | None] = {layout.DEPTH_KEY: record}
        for camera, member in record.get("members", {}).items():
            colors[layout.camera_key(camera)] = member.get("color")
            depths[layout.depth_key(camera)] = member
        for camera in record.get("set", []):  # a member the recorder dropped: held
            if camera != record.get("cam"):
                colors.setdefault(layout.camera_key(camera), None)
                depths.setdefault(layout.depth_key(camera), None)
        for key, color in colors.items():
            video = self.videos.get(key)
            if video is None and color is None:
                continue
            if video is None:
                path = self.job.out / layout.VIDEO_PATH.format(video_key=key, **self.where)
                video = self.videos[key] = CameraVideo(path, self.episode.fps, self.job.video_codec)
            video.write(row, color, row in self.sampled)
        if not self.job.depth:
            return
        for key, member in depths.items():
            column = self.depths.setdefault(key, DepthColumn(pending_rows=row - self.written))
            column.add(member, row in self.sampled)
        columns = self.depths.values()
        if all(c.ready for c in columns) and any(len(c.rows) >= BATCH_ROWS for c in columns):
            self._flush(row + 1)

    def _flush(self, upto: int) -> None:
        """Write rows [written, upto) as one row group."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = np.arange(self.written, upto)
        if not len(rows):
            return
        e = self.episode
        joints = e.state.shape[1]

        def vectors(values: np.ndarray) -> pa.Array:
            flat = pa.array(np.ascontiguousarray(values[rows], np.float32).ravel())
            return pa.FixedSizeListArray.from_arrays(flat, joints)

        columns = {
            layout.STATE_KEY: vectors(e.state),
            layout.ACTION_KEY: vectors(e.action),
        }
        for key, column in self.depths.items():
            if not column.rows:  # a camera whose depth never arrived (or no depth logged)
                continue
            depth = column.take()
            height, width = depth.shape[1:]
            inner = pa.FixedSizeListArray.from_arrays(pa.array(depth.ravel()), width)
            columns[key] = pa.FixedSizeListArray.from_arrays(inner, height)
        columns.update(
            timestamp=pa.array((rows / e.fps).astype(np.float32)),
            frame_index=pa.array(rows.astype(np.int64)),
            episode_index=pa.array(np.full(len(rows), self.index, np.int64)),
            index=pa.array((self.first_frame + rows).astype(np.int64)),
            task_index=pa.array(np.full(len(rows), self.task_index, np.int64)),
        )
        table = pa.table(columns)
        if self.writer is None:
            self.data_path.parent.mkdir(parents=True, exist_ok=True)
            options = parquet_options([k for k in self.depths if k in columns])
            self.writer = pq.ParquetWriter(self.data_path, table.schema, **options)
        self.writer.write_table(table)
        self.written = upto

    def finish(self) -> dict[str, Any]:
        self._flush(len(self.episode))
        if self.writer is not None:
            self.writer.close()
        for video in self.videos.values():
            video.close(len(self.episode))
        e = self.episode
        rows = np.arange(len(e))
        stats = {
            layout.STATE_KEY: layout.vector_stats(e.state.astype(np.float32)),
            layout.ACTION_KEY: layout.vector_stats(e.action.astype(np.float32)),
            "timestamp": layout.vector_stats((rows / e.fps).astype(np.float32)),
            "frame_index": layout.vector_stats(rows),
            "episode_index": layout.vector_stats(np.full(len(e), self.index)),
            "index": layout.vector_stats(self.first_frame + rows),
            "task_index": layout.vector_stats(np.full(len(e), self.task_index)),
        }
        for key, video in self.videos.items():
            if video.samples:
                stats[key] = layout.color_stats(np.stack(video.samples))
        for key, column in self.depths.items():
            if column.samples:
                stats[key] = layout.depth_stats(np.stack(column.samples), len(e))
        where = layout.chunk_file(self.index)
        row: dict[str, Any] = {
            "episode_index": self.index,
            "tasks": [self.task],
            "length": len(e),
            "data/chunk_index": where["chunk_index"],
            "data/file_index": where["file_index"],
            "dataset_from_index": self.first_frame,
            "dataset_to_index": self.first_frame + len(e),
            "meta/episodes/chunk_index": 0,
            "meta/episodes/file_index": 0,
            "edgerun/log": str(self.job.log),
            "edgerun/episode_in_log": e.index,
            "edgerun/t0_ns": int(e.t_ns[0]),
            "edgerun/bundle_manifest_sha256": self.job.bundle_sha256,
        }
        for video_key in self.videos:
            key = f"videos/{video_key}"
            row.update(
                {
                    f"{key}/chunk_index": where["chunk_index"],
                    f"{key}/file_index": where["file_index"],
                    f"{key}/from_timestamp": 0.0,
                    f"{key}/to_timestamp": len(e) / e.fps,
                }
            )
        primary = self.videos.get(layout.COLOR_KEY)
        depth = self.depths.get(layout.DEPTH_KEY, DepthColumn())
        return {
            **row,
            "columns": list(row),
            "stats": stats,
            "color_hw": primary.hw if primary is not None else None,
            "depth_hw": depth.hw,
            "depth_scale_m": depth.scale_m,
            "camera_depths": {  # the other cameras': depth key -> (height, width), scale
                key: (column.hw, column.scale_m)
                for key, column in self.depths.items()
                if key != layout.DEPTH_KEY and column.hw is not None
            },
            "video_info": primary.writer.info() if primary is not None else None,
            "camera_videos": {  # the other cameras': video key -> (height, width), video info
                key: (video.hw, video.writer.info())
                for key, video in self.videos.items()
                if key != layout.COLOR_KEY
            },
        }


def write_log_episodes(job: EpisodeJob) -> list[dict[str, Any]]:
    """Write every planned episode of one log; their metadata rows, in order."""
    writers = [_EpisodeWriter(job, i) for i in range(len(job.episodes))]
    ordinals = np.concatenate([e.frame_ordinal for e in job.episodes])
    if len(ordinals) and ordinals[0] >= 0:
        bounds = np.cumsum([0] + [len(e) for e in job.episodes])
        for row, record in frames_for_rows(job.log, ordinals):
            which = int(np.searchsorted(bounds, row, side="right")) - 1
            writers[which].add_frame(row - int(bounds[which]), record)
    return [w.finish() for w in writers]

"""`edgerun log export`: episode logs out of edgerun, into the formats the field works with.

`lerobot`: one LeRobotDataset v3.0 for training (`export_lerobot`); `mcap`: one MCAP file per
log for review in Foxglove (`export_mcap`). docs/data.md says how to export and load them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.recording.format import LogError

FORMATS = ("lerobot", "mcap")


@dataclass(frozen=True)
class ExportOptions:
    logs: tuple[Path, ...]
    format: str
    out: Path
    task: str | None = None
    fps: int | None = None
    video_codec: str = "mjpeg"
    jobs: int | None = None
    ray_address: str | None = None
    depth: bool = True  # lerobot: depth maps in the dataset (most of the export's time)


def export_logs(options: ExportOptions) -> dict[str, Any]:
    """Export the logs as asked; a JSON-ready summary (counts, speed, problems)."""
    if options.jobs is not None and options.jobs < 1:
        raise LogError(f"--jobs {options.jobs} is invalid: must be >= 1")
    if options.format == "mcap":
        from edge_runtime.recording.export_mcap import export_mcap

        return export_mcap(list(options.logs), options.out, options.jobs, options.ray_address)
    if options.format != "lerobot":
        raise LogError(f"unknown export format {options.format!r}; use one of {FORMATS}")
    from edge_runtime.recording.export_lerobot import LeRobotOptions, export_lerobot

    shared = ("out", "task", "fps", "video_codec", "depth", "jobs", "ray_address")
    lerobot = LeRobotOptions(**{name: getattr(options, name) for name in shared})
    return export_lerobot(list(options.logs), lerobot)

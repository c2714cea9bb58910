"""One camera's depth column of a LeRobot episode: a depth map per row, held across gaps.

A multi-camera log's rows are the primary camera's frames; the other cameras' frames of each
set ride along (`frames_for_rows`), and the recorder may have dropped one. The column then
holds the camera's previous map for that row, and rows before the camera's first map get
that first map when it arrives, as the camera's video does (`CameraVideo`). So every
camera's depth column has a map for every row and the parquet rows stay aligned.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_runtime.recording.codecs import decode_depth


class DepthColumn:
    """Depth maps (uint16, the log's units) for the rows since the last flush."""

    def __init__(self, pending_rows: int = 0) -> None:
        self.rows: list[np.ndarray] = []
        self.pending_rows = pending_rows  # rows waiting for the camera's first map
        self.last: np.ndarray | None = None
        self.samples: list[np.ndarray] = []  # for the statistics, at 1/4 size
        self.hw: tuple[int, int] | None = None
        self.scale_m = 0.0

    def add(self, record: dict[str, Any] | None, sample: bool) -> None:
        """The next row's map from this camera's frame record (None: dropped, hold)."""
        pixels = None
        if record is not None and record.get("depth") is not None:
            pixels = decode_depth(record["depth"])
            self.hw = (int(pixels.shape[0]), int(pixels.shape[1]))
            self.scale_m = float(record.get("scale", 0.0))
        if pixels is None and self.last is None:
            self.pending_rows += 1
            return
        if pixels is None:
            pixels = self.last
        assert pixels is not None
        self.rows.extend([pixels] * self.pending_rows)
        self.pending_rows = 0
        self.rows.append(pixels)
        self.last = pixels
        if sample:
            self.samples.append(pixels[::4, ::4])

    @property
    def ready(self) -> bool:
        """Every row so far has a map (nothing waits for the camera's first one)."""
        return self.pending_rows == 0

    def take(self) -> np.ndarray:
        """The maps of the rows since the last flush, (N, H, W); the column is emptied."""
        maps, self.rows = np.stack(self.rows), []
        return maps

"""MP4 files of a log's color frames on a fixed-rate grid, through PyAV (FFmpeg).

Frame k of the file has presentation time k/fps exactly, which is how LeRobot's loader finds
frames (index = timestamp x fps, 0.1 ms tolerance). Three codecs, all decoded by LeRobot's
reader (torchcodec, FFmpeg):

- ``mjpeg`` (default): the log's JPEG bytes become the video's packets unchanged: no decode,
  no re-encode, no second generation loss, every frame a key frame (random access for
  training). The only codec that meets the export-speed goal on one core; files are as big as
  the log's color (docs/PERFORMANCE.md). Browsers do not play MJPEG-in-MP4.
- ``h264`` (libx264 ultrafast, GOP 2): small files every player and the Hugging Face viewer
  play; decodes and re-encodes every frame (about 3x real time on one core for 640x480).
- ``av1`` (SVT-AV1, GOP 2, LeRobot's own default): smallest, slowest.

PyAV is imported here only: the robot never needs it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from edge_runtime.recording.codecs import decode_color, encode_color
from edge_runtime.recording.format import LogError

VIDEO_CODECS = ("mjpeg", "h264", "av1")
_ENCODERS = {
    "h264": ("libx264", {"preset": "ultrafast", "crf": "23", "g": "2"}),
    "av1": ("libsvtav1", {"preset": "12", "crf": "30", "g": "2"}),
}


def import_av() -> Any:
    """PyAV, or a `LogError` that says how to install it."""
    try:
        import av
    except ImportError as exc:
        raise LogError(
            f"PyAV cannot be imported ({exc}); install the export tools with "
            "pip install 'edge-runtime[data]'"
        ) from exc
    return av


class GridVideoWriter:
    """Write one color frame per grid row: `write(blob)` with the log's color blob."""

    def __init__(self, path: Path, fps: int, codec: str = "mjpeg", threads: int = 1) -> None:
        if codec not in VIDEO_CODECS:
            raise LogError(f"unknown video codec {codec!r}; use one of {', '.join(VIDEO_CODECS)}")
        self.path = path
        self.fps = fps
        self.codec = codec
        self.threads = threads
        self.frames = 0
        self.bytes_in = 0
        self._av = import_av()
        self._container: Any = None
        self._stream: Any = None

    def __enter__(self) -> GridVideoWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _open(self, width: int, height: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = self._av.open(str(self.path), "w")
        if self.codec == "mjpeg":
            stream = self._container.add_stream("mjpeg", rate=self.fps)
            stream.pix_fmt = "yuvj420p"
        else:
            name, options = _ENCODERS[self.codec]
            if name == "libsvtav1":
                options = {**options, "svtav1-params": f"lp={self.threads}"}
            stream = self._container.add_stream(name, rate=self.fps, options=options)
            stream.pix_fmt = "yuv420p"
            stream.thread_count = self.threads
        stream.width, stream.height = width, height
        self._stream = stream
        self._time_base = Fraction(1, self.fps)  # frame k at k/fps; the muxer rescales

    def write(self, color_blob: dict[str, Any]) -> None:
        """Append the next row's frame (a color blob as the log stores it)."""
        height, width = color_blob["shape"][:2]
        if self._stream is None:
            self._open(width, height)
        elif (width, height) != (self._stream.width, self._stream.height):
            raise LogError(
                f"{self.path}: frame {self.frames} is {width}x{height} but the video is "
                f"{self._stream.width}x{self._stream.height}; export logs of one camera mode"
            )
        if self.codec == "mjpeg":
            data = color_blob["data"] if color_blob["codec"] == "jpeg" else None
            if data is None:
                data = encode_color(decode_color(color_blob), "jpeg", 90)["data"]
            packet = self._av.Packet(data)
            packet.stream = self._stream
            packet.pts = packet.dts = self.frames
            packet.time_base = self._time_base
            packet.is_keyframe = True
            self._container.mux(packet)
            self.bytes_in += len(data)
        else:
            rgb = np.ascontiguousarray(decode_color(color_blob))
            frame = self._av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = self.frames
            frame.time_base = self._time_base
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._container is None:
            return
        if self.codec != "mjpeg":
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()
        self._container = None

    def info(self) -> dict[str, Any]:
        """The feature's `info` block as LeRobot writes it for its own videos."""
        pix_fmt = "yuvj420p" if self.codec == "mjpeg" else "yuv420p"
        return {
            "video.height": int(self._stream.height) if self._stream else 0,
            "video.width": int(self._stream.width) if self._stream else 0,
            "video.codec": {"mjpeg": "mjpeg", "h264": "h264", "av1": "av1"}[self.codec],
            "video.pix_fmt": pix_fmt,
            "video.is_depth_map": False,
            "video.fps": self.fps,
            "video.channels": 3,
            "has_audio": False,
        }

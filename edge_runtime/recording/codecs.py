"""Image codecs for recorded frames, chosen by `edgerun bench recorder` (docs/perf/recording.md).

Color: JPEG through Pillow (already installed with matplotlib): about 1 ms for 640x480 and
30-70x smaller; lossy, which is fine for training and replay. Depth: lossless, because depth
is a measurement: a horizontal delta filter (neighbouring pixels are close, so differences
are small) then zlib level 1 from the standard library: about 5 ms and 2.5x on the synthetic
scene. zstd was 2x faster at the same ratio but is one more dependency; "raw" is there for a
machine where even that is too slow. Every codec releases the GIL while it compresses, so the
writer thread does not starve the control thread.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

import numpy as np

COLOR_CODECS = ("jpeg", "raw")
DEPTH_CODECS = ("zlib-delta", "zlib", "raw")


def encode_color(color: np.ndarray, codec: str = "jpeg", quality: int = 90) -> dict[str, Any]:
    if codec == "jpeg":
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(color), "RGB").save(out, "JPEG", quality=quality)
        data = out.getvalue()
    elif codec == "raw":
        data = np.ascontiguousarray(color).tobytes()
    else:
        raise ValueError(f"unknown color codec {codec!r}; use one of {', '.join(COLOR_CODECS)}")
    return {"codec": codec, "shape": list(color.shape), "data": data}


def encode_depth(depth: np.ndarray, codec: str = "zlib-delta") -> dict[str, Any]:
    depth = np.ascontiguousarray(depth, dtype=np.uint16)
    if codec == "zlib-delta":
        delta = depth.copy()
        np.subtract(depth[:, 1:], depth[:, :-1], out=delta[:, 1:])  # wraps mod 2**16: lossless
        data = zlib.compress(delta, 1)  # from the array's buffer: no copy while holding the GIL
    elif codec == "zlib":
        data = zlib.compress(depth, 1)
    elif codec == "raw":
        data = depth.tobytes()
    else:
        raise ValueError(f"unknown depth codec {codec!r}; use one of {', '.join(DEPTH_CODECS)}")
    return {"codec": codec, "shape": list(depth.shape), "data": data}


def decode_color(blob: dict[str, Any]) -> np.ndarray:
    shape = tuple(blob["shape"])
    if blob["codec"] == "jpeg":
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(blob["data"])).convert("RGB")).reshape(shape)
    if blob["codec"] == "raw":
        return np.frombuffer(blob["data"], np.uint8).reshape(shape)
    raise ValueError(f"unknown color codec {blob['codec']!r} in the log")


def decode_depth(blob: dict[str, Any]) -> np.ndarray:
    shape = tuple(blob["shape"])
    codec = blob["codec"]
    if codec == "raw":
        return np.frombuffer(blob["data"], np.uint16).reshape(shape)
    if codec not in ("zlib", "zlib-delta"):
        raise ValueError(f"unknown depth codec {codec!r} in the log")
    depth = np.frombuffer(zlib.decompress(blob["data"]), np.uint16).reshape(shape)
    if codec == "zlib-delta":
        depth = np.cumsum(depth, axis=1, dtype=np.uint16)  # undoes the wrapping delta exactly
    return depth

"""The recorder child process (see `process_writer`): stdin -> `LogWriter` -> segments.

Run as ``python -m edge_runtime.recording.child_writer DIR OPTIONS_JSON``. It answers one JSON
line on stdout when ready (or with the error), reads messages until end of file, then drains,
fsyncs, prints its statistics as a last JSON line and exits. Ctrl-C is ignored: the parent
decides when recording ends, and a parent that dies still leaves a complete log behind.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from typing import Any, BinaryIO

import numpy as np

from edge_runtime.recording.format import LogError, unpack_payload
from edge_runtime.recording.process_writer import LENGTH
from edge_runtime.recording.writer import LogWriter
from edge_runtime.sensors.base import Frame, Intrinsics


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    data = stream.read(n)
    return data if data is not None and len(data) == n else None


def _read_array(stream: BinaryIO, shape: list[int], dtype: type) -> np.ndarray | None:
    arr = np.empty(shape, dtype)
    view = memoryview(arr).cast("B")
    while view.nbytes:
        n = stream.readinto(view)  # type: ignore[attr-defined]
        if not n:
            return None
        view = view[n:]
    return arr


def child_main(directory: str, options: dict[str, Any]) -> int:
    from edge_runtime.recording.records import frame_to_record

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; we drain on EOF
    codecs = (options["color_codec"], options["jpeg_quality"], options["depth_codec"])

    def encode(kind: str, item: Any) -> dict[str, Any]:
        if kind != "frame":
            return item
        frame, names = item  # names: a multi-camera frame's `cam` and `set` keys
        return {**frame_to_record(frame, *codecs), **names}

    lanes = options["lanes"]
    writer = LogWriter(
        directory,
        encode,
        lanes=lanes,
        sync_interval_s=options["sync_interval_s"],
        max_segment_bytes=options["max_segment_bytes"],
        meta=options["meta"],
    )
    out = sys.stdout
    try:
        writer.start()
    except LogError as exc:
        print(json.dumps({"error": str(exc)}), file=out, flush=True)
        return 2
    print(json.dumps({"ready": True}), file=out, flush=True)
    stream = sys.stdin.buffer
    final: dict[str, Any] | None = None
    while writer.error is None:
        prefix = _read_exact(stream, LENGTH.size)
        if prefix is None:
            break  # the runtime closed the pipe (or died): finish what we have
        body = _read_exact(stream, LENGTH.unpack(prefix)[0])
        if body is None:
            break
        head = unpack_payload(body)
        if "r" in head:
            if head["r"].get("k") == "stop":
                final = head["r"]  # written after everything still queued here
                continue
            lane, kind, item = "record", "raw", head["r"]
        else:
            m = head["f"]
            color = _read_array(stream, m["cshape"], np.uint8)
            depth = _read_array(stream, m["dshape"], np.uint16)
            if color is None or depth is None:
                break
            w, h, fx, fy, ppx, ppy, model, coeffs = m["intr"]
            intr = Intrinsics(w, h, fx, fy, ppx, ppy, model, tuple(coeffs))
            item = Frame(
                color, depth, m["scale"], intr, m["dev_ms"], m["host_ns"], m["n"],
                m.get("dev_clock", ""),
            )  # fmt: skip
            item = (item, {k: m[k] for k in ("cam", "set") if k in m})
            lane, kind = "frame", "frame"
        while writer.pending() >= lanes[lane] and writer.error is None:
            time.sleep(0.002)  # back-pressure: the parent's bounded lanes drop and count
        writer.submit(lane, kind, item)
    writer.close(final=final)
    stats = {
        "records": writer.records_written,
        "bytes": writer.bytes_written,
        "dropped": writer.dropped,
        "error": writer.error,
    }
    with contextlib.suppress(OSError):  # the parent may be gone (killed): the log is complete
        print(json.dumps(stats), file=out, flush=True)
    return 0 if writer.error is None else 1


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], json.loads(sys.argv[2])))

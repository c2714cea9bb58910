"""The recorder in its own process: the runtime's interpreter only forwards bytes.

Why: compression and writing in a thread of the runtime's process share its GIL. Each time
that thread takes the GIL back (after every compression or write call) it can make the
control thread wait, and on a loaded machine the writer may be descheduled while holding it;
`edgerun bench recorder` measured the control loop's lateness p99 going from ~1 µs to
hundreds of µs that way (docs/perf/recording.md). Here the runtime keeps only a forwarding
thread: ticks are packed (microseconds) and frames go to the child through a pipe straight
from the arrays' memory (`os.write` of a memoryview: no copy while holding the GIL). The
child, `python -m edge_runtime.recording.child_writer DIR OPTIONS`, runs an ordinary
`LogWriter` (encode, fsync, rotate) under its own GIL.

Bonus for crash safety: if the runtime is killed, the child sees end-of-file, writes out
everything it received, fsyncs and exits.

Wire format on the child's stdin: ``u32le n | msgpack header (n bytes) | blobs``; the header
is ``{"r": record}`` or ``{"f": frame metadata, "blobs": [color bytes, depth bytes]}``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import msgpack
import numpy as np

from edge_runtime.recording.format import LogError, msgpack_default
from edge_runtime.recording.records import frame_meta
from edge_runtime.recording.writer import LogWriter
from edge_runtime.sensors.base import Frame

LENGTH = struct.Struct("<I")
PIPE_BYTES = 1 << 20  # a whole frame fits: fewer wake-ups of the child
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
FRAME_REF = "_frame"
CHILD = "edge_runtime.recording.child_writer"


def _send(fd: int, *buffers: Any) -> int:
    total = 0
    for buf in buffers:
        view = memoryview(buf).cast("B")
        while view.nbytes:
            n = os.write(fd, view)  # releases the GIL for the copy into the pipe
            view = view[n:]
            total += n
    return total


class ProcessLogWriter(LogWriter):
    """A `LogWriter` whose records are written by a child process."""

    def __init__(
        self,
        directory: str | Path,
        encode: Callable[[str, Any], dict[str, Any]],
        child_options: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(directory, encode, **kwargs)
        self._options = {
            **child_options,
            "sync_interval_s": self.sync_interval_s,
            "max_segment_bytes": self.max_segment_bytes,
            "meta": self.meta,
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._fd = -1
        self.child_stats: dict[str, Any] = {}

    def _prepare(self) -> None:
        cmd = [sys.executable, "-m", CHILD, str(self.directory), json.dumps(self._options)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._fd = self._proc.stdin.fileno()
        with contextlib.suppress(OSError):  # Linux only; the default 64 KiB works too
            fcntl.fcntl(self._fd, F_SETPIPE_SZ, PIPE_BYTES)
        reply = _read_reply(self._proc.stdout)
        if not reply.get("ready"):
            self._proc.wait(10)
            raise LogError(reply.get("error") or "the recorder process did not start; see its log")

    def _write(self, record: dict[str, Any]) -> None:
        if record.get("k") == FRAME_REF:
            frame: Frame = record["frame"]
            color = np.ascontiguousarray(frame.color)
            depth = np.ascontiguousarray(frame.depth, dtype=np.uint16)
            meta = {**frame_meta(frame), "cshape": list(color.shape), "dshape": list(depth.shape)}
            head = msgpack.packb({"f": meta, "blobs": [color.nbytes, depth.nbytes]})
            sent = _send(self._fd, LENGTH.pack(len(head)), head, color, depth)
        else:
            head = msgpack.packb({"r": record}, default=msgpack_default, use_bin_type=True)
            sent = _send(self._fd, LENGTH.pack(len(head)), head)
        self.bytes_written += sent
        self.records_written += 1

    def _sync(self) -> None:
        """The child fsyncs on its own schedule."""

    def _close_file(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        assert proc.stdout is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()  # end of file: the child drains, fsyncs and exits
        self.child_stats = _read_reply(proc.stdout)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.error = self.error or "the recorder process did not finish within 60 s"
        if self.child_stats.get("error") and not self.error:
            self.error = self.child_stats["error"]
        for lane, count in self.child_stats.get("dropped", {}).items():
            self.dropped[lane] = self.dropped.get(lane, 0) + count


def _read_reply(stream: BinaryIO) -> dict[str, Any]:
    line = stream.readline()
    try:
        reply = json.loads(line) if line else {}
    except ValueError:
        reply = {}
    return reply if isinstance(reply, dict) else {}

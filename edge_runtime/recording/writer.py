"""`LogWriter`: a background thread that turns submitted items into a crash-safe segment log.

Producers (the control thread, the inference worker, the camera) call `submit`, which never
blocks: it appends to a bounded lane and returns, or counts a drop when the lane is full.
Every drop is written to the log as a `drops` record and logged, never silent. Separate lanes
keep a burst of large frames from crowding out 100 Hz tick records.

The thread encodes (compression releases the GIL), frames records (`format.pack`: a sync
marker, the record's number in its segment and two CRCs, so a reader can skip damage), writes
through a buffered file, and every `sync_interval_s` flushes and fsyncs: after a kill -9 or
a power cut the reader recovers every record written before the last sync. A segment that
passes `max_segment_bytes` is closed and the next one opened, each with its own header, so a
damaged file costs one segment, not the episode.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from edge_runtime.recording.format import (
    MAGIC,
    LogError,
    header_record,
    pack,
    pack_parts,
    record_head,
)

log = logging.getLogger(__name__)

Encoder = Callable[[str, Any], dict[str, Any]]
WRITE_BUFFER = 64 * 1024


def segment_name(index: int) -> str:
    return f"episode-{index:05d}.erlog"


class LogWriter:
    """Writes records to `directory/episode-NNNNN.erlog`; `submit` is safe from any thread."""

    def __init__(
        self,
        directory: str | Path,
        encode: Encoder,
        *,
        lanes: dict[str, int] | None = None,
        sync_interval_s: float = 0.2,
        max_segment_bytes: int = 512 * 1024 * 1024,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._encode = encode
        self._capacity = dict(lanes or {"record": 8192, "frame": 8})
        self._lanes: dict[str, collections.deque[tuple[str, Any]]] = {
            name: collections.deque() for name in self._capacity
        }
        self.dropped = dict.fromkeys(self._capacity, 0)
        self._reported_drops = dict.fromkeys(self._capacity, 0)
        self._cond = threading.Condition()
        self._closing = False
        self.sync_interval_s = sync_interval_s
        self.max_segment_bytes = max_segment_bytes
        self.meta = dict(meta or {})
        self.records_written = 0
        self.bytes_written = 0
        self.syncs = 0
        self.records_synced = 0  # records durable on disk as of the last fsync
        self.error: str | None = None
        self._segment = -1
        self._file: BinaryIO | None = None
        self._segment_bytes = 0
        self._segment_records = 0
        self._thread: threading.Thread | None = None
        self._final: dict[str, Any] | None = None

    def start(self) -> None:
        self._prepare()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def _prepare(self) -> None:
        """Open the first segment (a subclass may send records elsewhere)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LogError(
                f"cannot create the recording directory {self.directory} ({exc.strerror}); "
                "pass a writable --record DIR"
            ) from exc
        existing = sorted(self.directory.glob("episode-*.erlog"))
        if existing:
            raise LogError(
                f"{self.directory} already holds an episode log ({existing[0].name}); "
                "record into a new directory"
            )
        self._open_segment()

    def submit(self, lane: str, kind: str, item: Any) -> bool:
        """Queue `item` for writing; False (and a counted drop) when the lane is full."""
        with self._cond:
            queue = self._lanes[lane]
            if self._closing or self.error is not None or len(queue) >= self._capacity[lane]:
                self.dropped[lane] += 1
                return False
            queue.append((kind, item))
            self._cond.notify()
            return True

    def pending(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._lanes.values())

    def close(self, timeout_s: float = 30.0, final: dict[str, Any] | None = None) -> None:
        """Drain what is queued, write `final` (e.g. the stop record) last, fsync, close.

        Idempotent.
        """
        with self._cond:
            if final is not None and not self._closing:
                self._final = final
            self._closing = True
            self._cond.notify()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                log.error("recorder: writer did not drain within %.0f s", timeout_s)

    # -- writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        last_sync = time.monotonic()
        while True:
            with self._cond:
                if not self._closing and not any(self._lanes.values()):
                    self._cond.wait(self.sync_interval_s)
                batch = [q.popleft() for q in self._lanes.values() for _ in range(min(len(q), 64))]
                closing = self._closing and not any(self._lanes.values()) and not batch
                drops = self._new_drops()
            try:
                for lane, count in drops.items():
                    now = time.monotonic_ns()
                    self._write({"k": "drops", "lane": lane, "count": count, "t_ns": now})
                    log.warning(
                        "recorder: dropped %d %s item(s): the disk is too slow", count, lane
                    )
                for kind, item in batch:
                    self._write(self._encode(kind, item))
                if closing and self._final is not None:
                    self._write(self._final)
                if closing or time.monotonic() - last_sync >= self.sync_interval_s:
                    self._sync()
                    last_sync = time.monotonic()
            except Exception as exc:  # disk full, encoder bug: stop writing, keep the loop alive
                self._fail(exc)
                return
            if closing:
                self._close_file()
                return

    def _new_drops(self) -> dict[str, int]:
        new = {}
        for lane, count in self.dropped.items():
            if count > self._reported_drops[lane]:
                new[lane] = count - self._reported_drops[lane]
                self._reported_drops[lane] = count
        return new

    def _write(self, record: dict[str, Any]) -> None:
        prefix, payload = pack_parts(record, self._segment_records)
        size = len(prefix) + len(payload)
        if self._segment_bytes + size > self.max_segment_bytes and self.records_written:
            self._sync()
            self._close_file()
            self._open_segment()
            prefix = record_head(self._segment_records, payload)  # numbered in the new one
        assert self._file is not None
        self._file.write(prefix)
        self._file.write(payload)
        self._segment_bytes += size
        self._segment_records += 1
        self.bytes_written += size
        self.records_written += 1

    def _open_segment(self) -> None:
        self._segment += 1
        path = self.directory / segment_name(self._segment)
        # A small buffer batches tick records; frame payloads are larger, so they bypass it and
        # go straight to write(2) with the GIL released instead of being copied while held.
        self._file = open(path, "xb", buffering=WRITE_BUFFER)  # noqa: SIM115 (see _close_file)
        head = MAGIC + pack(header_record(self._segment, self.meta), seq=0)
        self._file.write(head)
        self._segment_bytes = len(head)
        self._segment_records = 1  # the header is record 0: readers count losses by number
        self.bytes_written += len(head)
        self._sync()
        _fsync_dir(self.directory)  # the new file's directory entry must survive a power cut

    def _sync(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self.syncs += 1
            self.records_synced = self.records_written

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()

    def _fail(self, exc: Exception) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        log.error("recorder: stopped writing %s: %s", self.directory, self.error)
        # The disk may be the problem; the records already synced are safe either way.
        with contextlib.suppress(Exception):
            self._sync()
        with contextlib.suppress(Exception):
            self._close_file()
        self._file = None
        with self._cond:
            for lane, queue in self._lanes.items():
                self.dropped[lane] += len(queue)
                queue.clear()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

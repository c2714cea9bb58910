"""How much of a damaged episode log comes back: flip K random bytes, count what is recovered.

A failing SD card flips bytes anywhere in a file. The measure (issue 13): after flipping K
random bytes in a ~1.4 MB log, every record that holds no flipped byte must be recovered, and
nothing else. The log is a real one (`EpisodeRecorder`: ticks at 100 Hz, a small RGB-D frame
every third tick); the damaged copies go through `read_segment`, the reader's own code, in
memory. Also reported: what the writer pays for the framing (bytes and time per record).

Run: ``python -m edge_runtime.recording.damage_bench [--trials N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from edge_runtime.pipeline.observer import ActionChunk, TickRecord
from edge_runtime.recording.format import MAGIC, msgpack_default, pack_parts
from edge_runtime.recording.framing import ScanState, scan
from edge_runtime.recording.reader import SegmentReport, read_segment
from edge_runtime.recording.recorder import EpisodeRecorder
from edge_runtime.recording.records import frame_to_record, tick_to_record
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.synthetic_scene import scene_frame

JOINTS = 6


def _tick(i: int) -> TickRecord:
    pos = np.linspace(-1.0, 1.0, JOINTS) + i * 1e-3
    return TickRecord(
        i, 10_000_000 * i, 10_000_000 * i + 5, 5, 0, pos, pos, pos, pos, pos, "run", 40
    )


def _frame(i: int, width: int = 64, height: int = 48) -> Frame:
    color, depth = scene_frame(i, width, height)
    intr = Intrinsics(width, height, 50.0, 50.0, width / 2, height / 2)
    return Frame(color, depth, 0.001, intr, 33.3 * i, 10_000_000 * i, i)


def write_sample_log(directory: Path, ticks: int = 700) -> Path:
    """A one-segment log (~1.4 MB for 700 ticks), nothing dropped; returns the segment."""
    # Lanes large enough to hold the whole episode: a fixture must not drop anything.
    rec = EpisodeRecorder(directory, process=False, record_queue=4 * ticks, frame_queue=ticks)
    rec.on_start([f"j{j}" for j in range(JOINTS)], 0.01)
    for i in range(ticks):
        rec.on_tick(_tick(i))
        if i % 3 == 0:
            rec.on_frame(_frame(i))
            rec.on_chunk(ActionChunk(10_000_000 * i, 20_000_000, np.zeros((8, JOINTS)), 900, i))
    rec.on_stop()
    return next(directory.glob("episode-*.erlog"))


def _identity(record: dict[str, Any]) -> bytes:
    """A record's payload bytes: equal exactly when two records are the same record."""
    return msgpack.packb(record, default=msgpack_default, use_bin_type=True)


def damage_trial(data: bytes, flips: int, seed: int) -> dict[str, Any]:
    """Flip `flips` random bytes of the intact segment `data`; what comes back, what is told.

    `recovered_untouched` must equal `untouched` (every record without a flipped byte comes
    back) and `recovered_touched` must be 0 (no damaged record is believed).
    """
    state = ScanState()
    originals = [_identity(r) for r in scan(data, len(MAGIC), len(data), state)]
    starts = []
    state = ScanState()
    for _record in scan(data, len(MAGIC), len(data), state):
        starts.append(state.start)
    rng = random.Random(seed)
    damaged = bytearray(data)
    positions = rng.sample(range(len(data)), flips)
    for pos in positions:
        damaged[pos] ^= rng.randrange(1, 256)
    touched = {
        int(np.searchsorted(starts, pos, side="right")) - 1 for pos in positions if pos >= starts[0]
    }
    report = SegmentReport(Path(f"trial-{seed}.erlog"), len(damaged))
    got = [_identity(r) for r in read_segment(bytes(damaged), report)]
    expected = [key for i, key in enumerate(originals) if i not in touched]
    got_set, expected_set = set(got), set(expected)
    return {
        "flips": flips,
        "records": len(originals),
        "untouched": len(expected),
        "recovered_untouched": len(got_set & expected_set),
        "recovered_touched": len(got_set - expected_set),
        "in_order": got == expected,
        "damaged_records": len(touched),
        "lost_records_reported": report.lost_records,
        "spans_reported": len(report.damage),
        "lost_bytes_reported": report.lost_bytes,
    }


def damage_survival(
    data: bytes, flips: tuple[int, ...] = (1, 10, 200), trials: int = 20
) -> list[dict[str, Any]]:
    """One row per K: totals over `trials` seeded trials (the seeds are 0..trials-1)."""
    rows = []
    for k in flips:
        results = [damage_trial(data, k, seed) for seed in range(trials)]
        untouched = sum(r["untouched"] for r in results)
        recovered = sum(r["recovered_untouched"] for r in results)
        rows.append(
            {
                "flips": k,
                "trials": trials,
                "records_per_log": results[0]["records"],
                "untouched": untouched,
                "recovered_untouched": recovered,
                "recovered_pct": round(100.0 * recovered / max(untouched, 1), 3),
                "damaged_records_believed": sum(r["recovered_touched"] for r in results),
                "in_order": all(r["in_order"] for r in results),
                "lost_records_true": sum(r["damaged_records"] for r in results),
                "lost_records_reported": sum(r["lost_records_reported"] for r in results),
            }
        )
    return rows


def _pack_v1(record: dict[str, Any]) -> tuple[bytes, bytes]:
    """Version 1's framing (length, crc): the baseline the new framing is compared with."""
    payload = msgpack.packb(record, default=msgpack_default, use_bin_type=True)
    return struct.pack("<II", len(payload), zlib.crc32(payload)), payload


def framing_cost(repeats: int = 7) -> list[dict[str, Any]]:
    """Bytes and encode time (msgpack + framing) per record, version 1 vs 2, alternating in
    one process (separate processes differ by more than the framing: glibc's mmap threshold
    for the 268 KB frame payloads)."""
    color, depth = scene_frame(0, 640, 480)
    frame = Frame(color, depth, 0.001, Intrinsics(640, 480, 500, 500, 320, 240), 1.0, 2, 3)
    rows = []
    for kind, record, count in (
        ("tick", tick_to_record(_tick(1)), 20_000),
        ("frame 640x480", frame_to_record(frame), 300),
    ):
        times: dict[str, list[float]] = {"v1": [], "v2": []}
        for _ in range(repeats):
            for version, pack in (("v1", _pack_v1), ("v2", lambda r: pack_parts(r, 5))):
                t0 = time.perf_counter()
                for _ in range(count):
                    pack(record)
                times[version].append((time.perf_counter() - t0) / count * 1e6)
        rows.append(
            {
                "record": kind,
                "bytes_v1": sum(map(len, _pack_v1(record))),
                "bytes_v2": sum(map(len, pack_parts(record))),
                "encode_us_v1": round(statistics.median(times["v1"]), 2),
                "encode_us_v2": round(statistics.median(times["v2"]), 2),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="seeded trials per K")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        segment = write_sample_log(Path(tmp) / "ep")
        data = segment.read_bytes()
    result = {
        "log_bytes": len(data),
        "damage": damage_survival(data, trials=args.trials),
        "framing_cost": framing_cost(),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""EpisodeRecorder -> LogReader: what goes in comes out; drops, rotation and bad logs are told."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.pipeline.observer import ActionChunk, TickRecord
from edge_runtime.recording import EpisodeRecorder, LogError, LogReader
from edge_runtime.recording.format import MAGIC, header_record, pack
from edge_runtime.recording.records import chunk_from_record, frame_from_record, tick_from_record
from edge_runtime.recording.writer import LogWriter
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.synthetic_scene import scene_frame

W, H = 64, 48


def tick(i: int) -> TickRecord:
    pos = np.array([0.1, -0.2, 0.3]) + i * 1e-3
    return TickRecord(
        i, 1000 * i, 1000 * i + 7, 7, 0, pos, pos * 0, pos * 0, pos + 0.01, pos + 0.02, "run", 55
    )


def frame(i: int) -> Frame:
    color, depth = scene_frame(i, W, H)
    intr = Intrinsics(W, H, 50.0, 51.0, 32.0, 24.0)
    return Frame(color, depth, 0.001, intr, 33.3 * i, time.monotonic_ns(), i)


def record_episode(directory: Path, ticks: int = 30, **kwargs: object) -> EpisodeRecorder:
    rec = EpisodeRecorder(directory, **kwargs)  # type: ignore[arg-type]
    rec.on_start(["a", "b", "c"], 0.01)
    for i in range(ticks):
        rec.on_tick(tick(i))
        if i % 3 == 0:
            rec.on_frame(frame(i))
            rec.on_chunk(ActionChunk(1000 * i, 20, np.full((4, 3), float(i)), 1234, i))
    rec.on_event("clamp", "joint b over its limit", 999)
    rec.on_stop()
    return rec


@pytest.mark.parametrize("process", [True, False], ids=["process", "thread"])
def test_rec_everything_recorded_reads_back(tmp_path: Path, process: bool) -> None:
    rec = record_episode(tmp_path / "ep", process=process)
    assert rec.dropped == {"record": 0, "frame": 0}
    assert rec.error is None
    records = LogReader(tmp_path / "ep").read_all()
    kinds = [r["k"] for r in records]
    assert kinds.count("tick") == 30
    assert kinds.count("frame") == 10
    assert kinds.count("chunk") == 10
    assert kinds[0] == "start"
    assert kinds[-1] == "stop"
    ticks = [tick_from_record(r) for r in records if r["k"] == "tick"]
    np.testing.assert_array_equal(ticks[5].positions_rad, tick(5).positions_rad)
    assert ticks[5].mode == "run"
    assert ticks[5].lateness_ns == 7
    frames = [frame_from_record(r) for r in records if r["k"] == "frame"]
    original = frame(3)
    np.testing.assert_array_equal(frames[1].depth, original.depth)  # depth is lossless
    assert np.abs(frames[1].color.astype(int) - original.color).mean() < 6  # JPEG q90
    assert frames[1].intrinsics == original.intrinsics
    assert frames[1].frame_number == 3
    chunk = chunk_from_record(next(r for r in records if r["k"] == "chunk" and r["n"] == 6))
    np.testing.assert_array_equal(chunk.actions, np.full((4, 3), 6.0))
    event = next(r for r in records if r["k"] == "event")
    assert event["kind"] == "clamp"
    assert event["detail"] == "joint b over its limit"


def test_rec_segments_rotate_by_size(tmp_path: Path) -> None:
    record_episode(tmp_path / "ep", max_segment_bytes=8_000, process=False)
    segments = sorted((tmp_path / "ep").glob("episode-*.erlog"))
    assert len(segments) > 3
    reader = LogReader(tmp_path / "ep")
    assert sum(r["k"] == "tick" for r in reader) == 30
    assert len(reader.headers) == len(segments)
    assert not reader.report.corrupt_tail


def test_rec_full_lanes_count_drops_and_log_them(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "ep", lambda _kind, item: item, lanes={"record": 2})
    accepted = [writer.submit("record", "raw", {"k": "event", "n": i}) for i in range(5)]
    assert accepted == [True, True, False, False, False]
    writer.start()
    writer.close()
    records = LogReader(tmp_path / "ep").read_all()
    assert {k: v for k, v in records[0].items() if k != "t_ns"} == {
        "k": "drops",
        "lane": "record",
        "count": 3,
    }
    assert [r.get("n") for r in records[1:]] == [0, 1]


@pytest.mark.parametrize("process", [True, False], ids=["process", "thread"])
def test_rec_refuses_an_unusable_log_directory(tmp_path: Path, process: bool) -> None:
    record_episode(tmp_path / "ep", ticks=2, process=False)
    with pytest.raises(LogError, match="already holds an episode log"):
        EpisodeRecorder(tmp_path / "ep", process=process).start()
    (tmp_path / "file").write_text("x")
    with pytest.raises(LogError, match="cannot create the recording directory"):
        EpisodeRecorder(tmp_path / "file" / "ep", process=process).start()


def test_rec_newer_format_and_non_logs_are_one_sentence(tmp_path: Path) -> None:
    newer = tmp_path / "newer.erlog"
    head = header_record(0, {})
    head["version"] = 99
    newer.write_bytes(MAGIC + pack(head))
    with pytest.raises(LogError, match=r"format version 99, newer .* upgrade edge-runtime"):
        LogReader(newer)
    other = tmp_path / "notes.erlog"
    other.write_text("hello")
    with pytest.raises(LogError, match="not an edge-runtime episode log"):
        LogReader(other)
    with pytest.raises(LogError, match="does not exist"):
        LogReader(tmp_path / "missing")


def test_rec_damaged_segment_costs_only_itself(tmp_path: Path) -> None:
    record_episode(tmp_path / "ep", max_segment_bytes=8_000, process=False)
    segments = sorted((tmp_path / "ep").glob("episode-*.erlog"))
    full = sum(r["k"] == "tick" for r in LogReader(tmp_path / "ep"))
    middle = segments[len(segments) // 2]
    data = bytearray(middle.read_bytes())
    data[-10] ^= 0xFF
    middle.write_bytes(bytes(data))
    reader = LogReader(tmp_path / "ep")
    got = sum(r["k"] == "tick" for r in reader)
    assert reader.report.corrupt_tail
    assert [middle.name in p for p in reader.report.problems()] == [True]
    assert got >= full - 10  # one segment's tail lost, the later segments still read
    assert reader.report.segments[-1].damage == []


def test_rec_context_manager_finishes_the_log(tmp_path: Path) -> None:
    """`run --record` uses it as a context manager: a run that never called on_stop (an
    exception before the loop ended) still leaves a finished log behind."""
    with EpisodeRecorder(tmp_path / "ep") as rec:
        rec.on_start(["a", "b", "c"], 0.01)
        rec.on_tick(tick(0))
    kinds = [r["k"] for r in LogReader(tmp_path / "ep")]
    assert kinds == ["start", "tick", "stop"]
    rec.close()  # idempotent

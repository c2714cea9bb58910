"""Logs of a multi-camera robot: every camera's frames, sets back together, old logs unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_runtime.pipeline.observer import TickRecord
from edge_runtime.recording import EpisodeRecorder, LogReader
from edge_runtime.recording.episodes import frames_for_rows
from edge_runtime.recording.logged_frames import LoggedFrames
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.frame_set import FrameSet

INTR = Intrinsics(8, 6, 5.0, 5.0, 3.5, 2.5)


def _frame(camera: str, number: int, value: int) -> Frame:
    color = np.full((6, 8, 3), value, np.uint8)
    depth = np.full((6, 8), value, np.uint16)
    return Frame(
        color, depth, 0.001, INTR, number * 33.0, number * 33_000_000, number, "sim", camera
    )


def _set(number: int) -> FrameSet:
    frames = {"scene": _frame("scene", number, 10 * number), "wrist": _frame("wrist", number, 200)}
    return FrameSet.of(frames, "scene", skew_ms=0.0)


def _log(path: Path) -> Path:
    rec = EpisodeRecorder(path, process=False, color_codec="raw")
    rec.on_start(["a"], 0.01)
    pos = np.zeros(1)
    rec.on_tick(TickRecord(0, 0, 0, 0, 0, pos, pos, pos, pos, pos, "run", 0))
    rec.on_frame(_set(1))
    rec.writer.submit("frame", "frame", _set(2))  # the recorder had to drop set 2's wrist frame
    rec.on_frame(_set(3))
    rec.on_stop()
    return path


def test_frame_sets_come_back_whole_and_incomplete_ones_are_counted(tmp_path: Path) -> None:
    logged = LoggedFrames(LogReader(_log(tmp_path / "log")))
    sets = list(logged)
    assert [s.frame_number for s in sets] == [1, 3]
    assert all(isinstance(s, FrameSet) for s in sets)
    assert int(sets[1].cameras["scene"].color[0, 0, 0]) == 30
    assert int(sets[1].cameras["wrist"].color[0, 0, 0]) == 200
    assert sets[1].cameras["wrist"].camera == "wrist"
    assert logged.incomplete_sets == 1
    assert logged.cameras == {"scene": 3, "wrist": 2}


def test_export_rows_get_the_other_cameras_of_their_set(tmp_path: Path) -> None:
    log = _log(tmp_path / "log")
    rows = dict(frames_for_rows(log, np.array([0, 1, 2, 2])))
    assert sorted(rows) == [0, 1, 2, 3]
    assert set(rows[0]["members"]) == {"wrist"}
    assert "members" not in rows[1]  # set 2's wrist frame was dropped
    assert rows[3]["members"]["wrist"]["n"] == 3


def test_a_lone_cameras_log_reads_as_before(tmp_path: Path) -> None:
    rec = EpisodeRecorder(tmp_path / "log", process=False)
    rec.on_start(["a"], 0.01)
    rec.on_frame(_frame("", 1, 5))
    rec.on_stop()
    record = next(r for r in LogReader(tmp_path / "log") if r["k"] == "frame")
    assert "cam" not in record
    assert "set" not in record
    (frame,) = LoggedFrames(LogReader(tmp_path / "log"))
    assert type(frame) is Frame
    assert frame.camera == ""

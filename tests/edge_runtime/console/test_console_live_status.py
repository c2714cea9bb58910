"""What the runtime publishes for the console: plain JSON at 5 Hz, camera previews on demand."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_runtime.console.robot_view import note_viewer, preview_jpeg, robot_state
from edge_runtime.field.live import LiveStatus, live_dir, preview_path
from edge_runtime.pipeline.observer import ActionChunk, TickRecord
from edge_runtime.sensors.base import Frame, Intrinsics


def _tick(index: int, positions: list[float]) -> TickRecord:
    joints = np.asarray(positions)
    return TickRecord(
        index, 0, 0, 1500, 1, joints, joints * 0, joints * 0, joints + 0.1, joints, "run", 100
    )


def _frame() -> Frame:
    color = np.full((48, 64, 3), 200, np.uint8)
    depth = np.zeros((48, 64), np.uint16)
    return Frame(color, depth, 0.001, Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0), 0.0, 0, 7)


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10.0
    while not condition():
        assert time.monotonic() < deadline, "the publisher never wrote"
        time.sleep(0.02)


def test_live_status_publishes_the_loop_as_plain_json(tmp_path: Path) -> None:
    with LiveStatus(tmp_path, "cell-3", "bundle-a") as live:
        live.on_start(["shoulder", "elbow"], 0.01)
        live.on_tick(_tick(0, [0.5, -0.25]))
        live.on_tick(_tick(1, [float("nan"), 0.0]))  # a failed read keeps the last good one
        chunk = ActionChunk(0, 10, np.zeros((4, 2)), inference_ns=2_500_000)
        live.on_chunk(ActionChunk(**{**chunk.__dict__, "world_model": {"surprise": 0.75}}))
        live.on_event("stop", "stale_observation", 0)
        _until(lambda: robot_state(tmp_path)["live"].get("ticks") == 2)
        state = robot_state(tmp_path)
    assert state["state"] == "running"
    shown = state["live"]
    assert shown["positions_rad"] == [0.5, -0.25]
    assert shown["failed_reads"] == 1
    assert shown["missed_total"] == 2
    assert shown["inference_ms"] == 2.5
    assert shown["world_model"] == {"surprise": 0.75}
    assert (shown["events"][0]["kind"], shown["events"][0]["detail"]) == (
        "stop",
        "stale_observation",
    )
    assert shown["stop_reason"] == "stop: stale_observation"
    written = (live_dir(tmp_path) / "status.json").read_text()
    json.loads(written, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert robot_state(tmp_path)["state"] == "idle"  # the publisher said "stopped" at exit


def test_live_status_writes_camera_previews_only_while_someone_looks(tmp_path: Path) -> None:
    preview = preview_path(live_dir(tmp_path), "camera")
    with LiveStatus(tmp_path, "cell-3", "bundle-a") as live:
        live.on_frame(_frame())
        status = live_dir(tmp_path) / "status.json"
        _until(status.exists)
        first = json.loads(status.read_text())["updated_unix_s"]
        _until(lambda: json.loads(status.read_text())["updated_unix_s"] > first)
        assert not preview.exists()  # published twice, nobody looking: no preview
        note_viewer(tmp_path)
        _until(preview.exists)
    jpeg = preview_jpeg(tmp_path, "camera")
    assert jpeg is not None
    assert Image.open(io.BytesIO(jpeg)).size == (32, 24)  # downscaled for the preview


def test_live_files_go_to_the_run_directory_not_the_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5 writes a second belong in RAM (/run), never on the robot's flash, nor in /dev/shm."""
    from edge_runtime.field.state_dir import ENV_RUNTIME_DIR

    state, run = tmp_path / "state", tmp_path / "run"
    monkeypatch.delenv(ENV_RUNTIME_DIR)
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(run))  # as systemd's RuntimeDirectory= sets it
    with LiveStatus(state, "cell-3", "bundle-a") as live:
        live.on_start(["shoulder"], 0.01)
        _until((run / "live" / "status.json").exists)
        assert robot_state(state)["state"] == "running"
    assert not (state / "live").exists()
    monkeypatch.setenv(ENV_RUNTIME_DIR, str(tmp_path / "second-robot"))
    assert live_dir(state) == tmp_path / "second-robot" / "live"


def test_live_status_previews_every_camera_of_a_frame_set(tmp_path: Path) -> None:
    """A robot with a wrist and a scene camera: the console lists and previews both."""
    from edge_runtime.sensors.frame_set import FrameSet

    wrist = Frame(**{**_frame().__dict__, "color": np.full((48, 64, 3), 40, np.uint8)})
    frames = {"scene": _frame(), "wrist": wrist}
    with LiveStatus(tmp_path, "cell-3", "bundle-a", camera="scene") as live:
        live.on_frame(FrameSet.of(frames, primary="scene", skew_ms=0.0))
        note_viewer(tmp_path)
        _until(preview_path(live_dir(tmp_path), "wrist").exists)
        _until(lambda: len(robot_state(tmp_path)["live"].get("cameras", [])) == 2)
        names = [c["name"] for c in robot_state(tmp_path)["live"]["cameras"]]
    assert names == ["scene", "wrist"]
    previews = {name: preview_jpeg(tmp_path, name) for name in names}
    levels = {name: np.asarray(Image.open(io.BytesIO(j))).mean() for name, j in previews.items()}
    assert levels["scene"] > 150 > 60 > levels["wrist"]  # each camera's own image

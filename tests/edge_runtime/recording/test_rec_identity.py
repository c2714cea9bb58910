"""Logs say what ran: bundle, config and calibration identity and a UTC anchor in the start record;
`log info` shows them, `replay` warns when the bundle differs, camera latency from device stamps."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from field_logs import IDENTITY, write_rgbd_log

from edge_runtime.bundle import open_bundle
from edge_runtime.cli.main import main
from edge_runtime.drive import demo_config
from edge_runtime.loop.clock import SimClock
from edge_runtime.pipeline.observer import TickRecord
from edge_runtime.recording import EpisodeRecorder, LogReader
from edge_runtime.recording.identity import bundle_identity, calibration_ids, run_identity
from edge_runtime.recording.summary import summarize
from edge_runtime.sensors.base import Frame, Intrinsics


def test_the_start_record_says_what_ran(tmp_path: Path, tiny_bundle: Path) -> None:
    config = demo_config()
    identity = run_identity(config, open_bundle(tiny_bundle, development_mode=True), tiny_bundle)
    rec = EpisodeRecorder(tmp_path / "log", process=False, identity=identity)
    before = time.time_ns()
    rec.on_start(["a", "b", "c"], 0.01)
    rec.on_stop()
    start = next(r for r in LogReader(tmp_path / "log") if r["k"] == "start")
    assert before <= start["wall_ns"] <= time.time_ns()
    assert start["robot"] == config.name
    assert len(start["config_sha256"]) == 64
    assert start["camera"]["fps"] == config.camera.fps
    bundle = start["bundle"]
    assert bundle["name"] == "bundle"
    assert (
        bundle["manifest_sha256"]
        == bundle_identity(open_bundle(tiny_bundle, development_mode=True), tiny_bundle)[
            "manifest_sha256"
        ]
    )
    assert bundle["key_id"] == ""  # unsigned development bundle
    info, _ = summarize(tmp_path / "log")
    assert info["identity"]["bundle"] == bundle
    assert info["identity"]["started_utc"].endswith("+00:00")


def test_calibration_ids_are_the_artifacts_own_hashes(tmp_path: Path) -> None:
    (tmp_path / "joints.json").write_text(json.dumps({"kind": "joints", "sha256": "ab" * 32}))
    (tmp_path / "handeye.json").write_text("{not json")
    assert calibration_ids(tmp_path) == {"joints": "ab" * 32}


def test_log_info_shows_identity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_rgbd_log(tmp_path / "log", seconds=0.2)
    assert main(["log", "info", str(log), "--json", str(tmp_path / "info.json")]) == 0
    shown = capsys.readouterr().out
    assert "bundle manifest sha256" in shown
    assert "pick (ref)" in shown
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["identity"]["calibration"] == IDENTITY["calibration"]
    assert info["camera_latency_ms"] is None  # simulated camera: its clock is not the host's


def test_camera_latency_comes_from_wall_clock_device_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall_ns, mono_ns = 1_800_000_000 * 10**9, 7 * 10**12
    monkeypatch.setattr("edge_runtime.recording.recorder.wall_anchor_ns", lambda: wall_ns)
    rec = EpisodeRecorder(tmp_path / "log", process=False, clock=SimClock(mono_ns))
    rec.on_start(["a"], 0.01)
    color, depth = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint16)
    intr = Intrinsics(4, 4, 1, 1, 2, 2)
    for i in range(5):
        host_ns = mono_ns + i * 33_000_000
        pipeline_ns = 20_000_000 + i * 1_000_000  # 20..24 ms from exposure to arrival
        capture_ms = (host_ns - mono_ns + wall_ns - pipeline_ns) / 1e6
        rec.on_frame(Frame(color, depth, 0.001, intr, capture_ms, host_ns, i, "global_time"))
    pos = np.zeros(1)
    rec.on_tick(TickRecord(0, mono_ns, mono_ns, 0, 0, pos, pos, pos, pos, pos, "run", 0))
    rec.on_stop()
    info, _ = summarize(tmp_path / "log")
    assert info["camera_latency_ms"]["p50"] == pytest.approx(22.0, abs=0.01)
    assert info["camera_latency_ms"]["max"] == pytest.approx(24.0, abs=0.01)
    frame = next(r for r in LogReader(tmp_path / "log") if r["k"] == "frame")
    assert frame["dev_clock"] == "global_time"


def test_replay_says_when_the_bundle_differs(tmp_path: Path, tiny_bundle: Path) -> None:
    from edge_runtime.recording.replay import replay_bundle

    bundle = open_bundle(tiny_bundle, development_mode=True)
    same = {"bundle": bundle_identity(bundle, tiny_bundle)}
    for name, identity in (("same", same), ("other", IDENTITY), ("old", {})):
        rec = EpisodeRecorder(tmp_path / name, process=False, identity=identity)
        rec.on_start(["a", "b", "c"], 0.01)
        pos = np.zeros(3)
        rec.on_tick(TickRecord(0, 0, 0, 0, 0, pos, pos, pos, pos, pos, "run", 0))
        rec.on_stop()
    assert replay_bundle(tmp_path / "same", tiny_bundle, [], True)["warnings"] == []
    (other,) = replay_bundle(tmp_path / "other", tiny_bundle, [], True)["warnings"]
    assert "recorded with bundle pick" in other
    assert "replayed through bundle" in other
    (old,) = replay_bundle(tmp_path / "old", tiny_bundle, [], True)["warnings"]
    assert "does not say which bundle" in old

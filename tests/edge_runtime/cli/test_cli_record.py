"""`edgerun record`, `log info` and `replay` end to end, and their one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle import open_bundle
from edge_runtime.cli.main import main
from edge_runtime.pipeline.observer import ActionChunk, TickRecord
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.recording import EpisodeRecorder
from edge_runtime.recording.format import MAGIC, header_record, pack
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.synthetic_scene import scene_frame

T0 = 10**12
PERIOD_NS = 10_000_000


def write_run_log(directory: Path, bundle: Path, offset_b: float = 0.1) -> Path:
    """A 40-tick run whose recorded chunks are the bundle's own output, joint b shifted."""
    policy = BundlePolicy(open_bundle(bundle, development_mode=True))
    rec = EpisodeRecorder(directory)
    rec.on_start(["a", "b", "c"], 0.01)
    for i in range(40):
        start = T0 + i * PERIOD_NS
        pos = np.array([0.1, 0.2, 0.3]) + 0.01 * np.sin(i / 5)
        late = 50_000 if i == 20 else 20_000
        rec.on_tick(TickRecord(i, start, start, late, 0, pos, pos * 0, pos * 0, pos, pos, "run", 9))
        if i % 5 == 0:
            color, depth = scene_frame(i, 48, 32)
            frame = Frame(color, depth, 0.001, Intrinsics(48, 32, 40, 40, 24, 16), i, start + 1, i)
            rec.on_frame(frame)
            actions = policy.act(frame, pos)
            actions[:, 1] += offset_b
            rec.on_chunk(ActionChunk(start + 1, 20_000_000, actions, 3_000_000, i))
    rec.on_event("clamp", "b above max_rad", T0 + 25 * PERIOD_NS)
    rec.on_stop()
    policy.close()
    return directory


@pytest.fixture
def run_log(tmp_path: Path, tiny_bundle: Path) -> Path:
    return write_run_log(tmp_path / "run", tiny_bundle)


def test_rec_log_info_json_and_plot(run_log: Path, tmp_path: Path) -> None:
    out, png = tmp_path / "info.json", tmp_path / "timeline.png"
    assert main(["log", "info", str(run_log), "--json", str(out), "--plot", str(png)]) == 0
    info = json.loads(out.read_text())
    assert info["records"] == 1 + 40 + 8 + 8 + 1 + 1
    assert info["duration_s"] == pytest.approx(39 * 0.01, abs=1e-3)
    assert info["streams"]["tick"]["count"] == 40
    assert info["streams"]["tick"]["rate_hz"] == pytest.approx(100.0)
    assert info["streams"]["frame"]["count"] == 8
    assert info["corrupt_tail"] is False
    assert info["lateness_us"]["max"] == 50.0
    assert info["inference_ms"]["p50"] == 3.0
    assert info["events"] == {"clamp": 1}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rec_log_info_reports_a_torn_tail(run_log: Path, tmp_path: Path) -> None:
    segment = next(run_log.glob("*.erlog"))
    segment.write_bytes(segment.read_bytes()[:-5])
    out = tmp_path / "info.json"
    assert main(["log", "info", str(run_log), "--json", str(out)]) == 0
    info = json.loads(out.read_text())
    assert info["corrupt_tail"] is True
    assert info["streams"]["tick"]["count"] == 40
    assert "truncated record" in info["problems"][0]


def test_rec_replay_finds_the_shifted_joint(
    run_log: Path, tiny_bundle: Path, tmp_path: Path
) -> None:
    out = tmp_path / "replay.json"
    args = ["replay", str(run_log), "--bundle", str(tiny_bundle), "--allow-unsigned"]
    assert main([*args, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["frames"] == 8
    assert result["chunk_actions_compared"] == 8 * 4
    assert result["command_actions_compared"] > 0
    a, b, c = (j["rmse_vs_chunk_rad"] for j in result["per_joint"])
    assert a < 0.01  # JPEG color is the only difference from what the robot saw
    assert c < 0.01
    assert b == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["log", "info", "missing-dir"], "does not exist"),
        (["replay", "missing-dir", "--bundle", "nope"], "bundle nope does not exist"),
        (["record", "--out", "x"], "nothing to record"),
    ],
)
def test_rec_bad_arguments_are_one_sentence(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_rec_newer_log_and_foreign_bundle_are_refused(
    run_log: Path, tmp_path: Path, tiny_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "newer"
    newer.mkdir()
    head = header_record(0, {})
    head["version"] = 7
    (newer / "episode-00000.erlog").write_bytes(MAGIC + pack(head))
    assert main(["log", "info", str(newer)]) == 2
    assert "upgrade edge-runtime" in capsys.readouterr().err

    other = EpisodeRecorder(tmp_path / "other")
    other.on_start(["x", "y", "z"], 0.01)
    pos = np.zeros(3)
    other.on_tick(TickRecord(0, 0, 0, 0, 0, pos, pos, pos, pos, pos, "run", 0))
    other.on_stop()
    args = ["replay", str(tmp_path / "other"), "--bundle", str(tiny_bundle), "--allow-unsigned"]
    assert main(args) == 2
    assert "recorded with joints ['x', 'y', 'z']" in capsys.readouterr().err


@pytest.mark.isolated  # pyrealsense2 can abort the interpreter (tests/edge_runtime/isolation.py)
def test_rec_record_sensors_from_a_recording(tmp_path: Path) -> None:
    pytest.importorskip("pyrealsense2", reason="pyrealsense2 (and libusb-1.0-0) not installed")
    from edge_runtime.sensors.realsense_synth import write_synthetic_recording

    source = write_synthetic_recording(tmp_path / "in.db3", 8, 64, 48)
    out = tmp_path / "rec"
    assert main(["record", "--out", str(out), "--playback", str(source), "--seconds", "20"]) == 0
    info_path = tmp_path / "info.json"
    assert main(["log", "info", str(out), "--json", str(info_path)]) == 0
    info = json.loads(info_path.read_text())
    assert 1 <= info["streams"]["frame"]["count"] <= 8
    assert info["clean_stop"] is True


def test_rec_replay_uses_the_joint_positions_recorded_with_the_chunk(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    """When a chunk carries the joints its policy saw, replay feeds those, not the ticks'."""
    from dataclasses import dataclass

    from edge_runtime.recording.replay import replay

    @dataclass(frozen=True)
    class ChunkWithJoints(ActionChunk):
        joint_positions: np.ndarray | None = None

    policy = BundlePolicy(open_bundle(tiny_bundle, development_mode=True))
    rec = EpisodeRecorder(tmp_path / "run", process=False)
    rec.on_start(["a", "b", "c"], 0.01)
    zeros, seen = np.zeros(3), np.full(3, 0.3)
    rec.on_tick(TickRecord(0, T0, T0, 0, 0, zeros, zeros, zeros, zeros, zeros, "run", 0))
    color, depth = scene_frame(0, 48, 32)
    frame = Frame(color, depth, 0.001, Intrinsics(48, 32, 40, 40, 24, 16), 0.0, T0 + 1, 0)
    rec.on_frame(frame)
    rec.on_chunk(ChunkWithJoints(T0 + 1, 20_000_000, policy.act(frame, seen), 0, 0, seen))
    rec.on_stop()
    result = replay(tmp_path / "run", policy, ["a", "b", "c"], 0.02)
    policy.close()
    assert result["chunk_actions_compared"] == 4
    assert all(j["rmse_vs_chunk_rad"] < 0.01 for j in result["per_joint"])  # not 0.3

"""`log export --format lerobot`: the real lerobot library loads the dataset and returns the log's
values (state, action, depth exactly; color within JPEG decoder differences)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from field_logs import JOINTS, write_rgbd_log
from lerobot_loader import lerobot_dataset, offline_hub

from edge_runtime.recording import LogError, LogReader
from edge_runtime.recording.codecs import decode_color, decode_depth, encode_depth
from edge_runtime.recording.episodes import read_episodes
from edge_runtime.recording.export_lerobot import LeRobotOptions, export_lerobot
from edge_runtime.recording.lerobot_depth import DepthColumn

pytest.importorskip("pyarrow", reason="the export tools: pip install 'edge-runtime[data]'")
pytest.importorskip("av", reason="the export tools: pip install 'edge-runtime[data]'")


@pytest.fixture(autouse=True, scope="module")
def _offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with offline_hub(tmp_path_factory.mktemp("hf")):
        yield


def expected_rows(log: Path, fps: int) -> list[dict]:
    """The grid computed straight from the raw records: row k at t0 + k/fps."""
    records = LogReader(log).read_all()
    ticks = [r for r in records if r["k"] == "tick"]
    frames = sorted((r for r in records if r["k"] == "frame"), key=lambda r: r["host_ns"])
    t0 = next(f["host_ns"] for f in frames if f["host_ns"] >= ticks[0]["start_ns"])
    rows = []
    for k in range(int((frames[-1]["host_ns"] - t0) * fps / 1e9 + 1e-6) + 1):
        t = t0 + round(k * 1e9 / fps)
        tick = [r for r in ticks if r["start_ns"] <= t][-1]
        frame = min(frames, key=lambda f: abs(f["host_ns"] - t))
        rows.append({"pos": tick["pos"], "cmd": tick["cmd"], "frame": frame})
    return rows


def test_lerobot_loads_the_export_and_returns_the_logs_values(tmp_path: Path) -> None:
    log = write_rgbd_log(tmp_path / "log", seconds=1.0)
    out = tmp_path / "dataset"
    summary = export_lerobot([log], LeRobotOptions(out=out, task="pick the red cube", jobs=1))
    assert summary["episodes"] == 1
    assert summary["fps"] == 30

    dataset = lerobot_dataset(out)
    rows = expected_rows(log, 30)
    assert len(dataset) == len(rows) == summary["frames"]
    assert dataset.meta.features["observation.state"]["names"] == JOINTS
    assert dataset.meta.features["action"]["names"] == JOINTS
    for k in (0, 7, len(rows) - 1):
        item = dataset[k]
        want = rows[k]
        assert np.array_equal(item["observation.state"].numpy(), want["pos"].astype(np.float32))
        assert np.array_equal(item["action"].numpy(), want["cmd"].astype(np.float32))
        assert np.array_equal(
            item["observation.depth"].numpy(), decode_depth(want["frame"]["depth"])
        )
        color = (item["observation.images.color"].permute(1, 2, 0).numpy() * 255).round()
        assert np.abs(color - decode_color(want["frame"]["color"])).mean() < 3.0
        assert item["timestamp"].item() == pytest.approx(k / 30, abs=1e-6)
        assert item["task"] == "pick the red cube"
    stats = json.loads((out / "meta" / "stats.json").read_text())
    assert np.array(stats["observation.images.color"]["mean"]).shape == (3, 1, 1)
    assert len(stats["observation.state"]["mean"]) == len(JOINTS)


def test_lerobot_loads_every_cameras_images_and_depth(tmp_path: Path) -> None:
    """A two-camera log: the wrist camera gets its own video and depth column, each row the
    wrist frame of the row's set (depth exactly)."""
    log = write_rgbd_log(tmp_path / "log", seconds=0.4, wrist_width=32)
    out = tmp_path / "dataset"
    summary = export_lerobot([log], LeRobotOptions(out=out, jobs=1))
    dataset = lerobot_dataset(out)
    features = dataset.meta.features
    assert tuple(features["observation.depth.wrist"]["shape"]) == (48, 32)
    assert features["observation.depth.wrist"]["info"]["depth.aligned_to"] == (
        "observation.images.wrist"
    )
    assert tuple(features["observation.depth"]["shape"]) == (48, 64)  # the primary's, as before
    records = LogReader(log).read_all()
    wrist = {r["host_ns"]: r for r in records if r["k"] == "frame" and r.get("cam") == "wrist"}
    rows = expected_rows(log, 30)
    assert len(dataset) == len(rows) == summary["frames"]
    for k in (0, len(rows) - 1):
        item, want = dataset[k], wrist[rows[k]["frame"]["host_ns"]]
        assert np.array_equal(item["observation.depth.wrist"].numpy(), decode_depth(want["depth"]))
        assert np.array_equal(
            item["observation.depth"].numpy(), decode_depth(rows[k]["frame"]["depth"])
        )
        color = (item["observation.images.wrist"].permute(1, 2, 0).numpy() * 255).round()
        assert np.abs(color - decode_color(want["color"])).mean() < 3.0
    stats = json.loads((out / "meta" / "stats.json").read_text())
    assert stats["observation.depth.wrist"]["count"] == [len(rows)]


def test_a_dropped_cameras_depth_is_held_and_its_first_map_fills_the_rows_before() -> None:
    """The recorder may drop a set's member: its depth column still has a map per row."""
    maps = [np.full((2, 3), v, np.uint16) for v in (7, 8)]
    column = DepthColumn()
    column.add(None, sample=False)  # no wrist frame yet: waits for the first
    assert not column.ready
    column.add({"depth": encode_depth(maps[0]), "scale": 0.001}, sample=True)
    column.add(None, sample=False)  # dropped: the previous map, held
    column.add({"depth": encode_depth(maps[1]), "scale": 0.001}, sample=False)
    assert column.ready
    assert column.take()[:, 0, 0].tolist() == [7, 7, 7, 8]
    assert (column.hw, column.scale_m, len(column.samples)) == ((2, 3), 0.001, 1)


def test_marked_segments_become_episodes_with_their_tasks(tmp_path: Path) -> None:
    log = write_rgbd_log(tmp_path / "log", seconds=1.2, markers=((0.1, "reach"), (0.6, "place")))
    out = tmp_path / "dataset"
    summary = export_lerobot([log], LeRobotOptions(out=out, jobs=1))
    assert summary["episodes"] == 2
    dataset = lerobot_dataset(out)
    first, second = dataset.meta.episodes[0], dataset.meta.episodes[1]
    assert first["tasks"] == ["reach"]
    assert second["tasks"] == ["place"]
    assert first["dataset_to_index"] == second["dataset_from_index"]
    assert dataset[second["dataset_from_index"]]["task"] == "place"
    assert dataset[second["dataset_from_index"]]["frame_index"].item() == 0


def test_sensors_only_logs_label_actions_with_the_next_position(tmp_path: Path) -> None:
    log = write_rgbd_log(tmp_path / "log", seconds=0.5, sensors_only=True)
    (episode, frames), *_ = list(read_episodes(log))
    assert len(frames) == len(episode)
    assert np.array_equal(episode.action[:-1], episode.state[1:])
    assert np.isfinite(episode.action).all()


def test_logs_export_in_parallel_processes_into_one_dataset(tmp_path: Path) -> None:
    logs = [write_rgbd_log(tmp_path / f"log{i}", seconds=0.4, seed=i) for i in range(2)]
    out = tmp_path / "dataset"
    options = LeRobotOptions(out=out, jobs=2, video_codec="h264", depth=False)
    summary = export_lerobot(logs, options)
    assert summary["episodes"] == 2
    dataset = lerobot_dataset(out)
    assert (
        dataset.meta.info["features"]["observation.images.color"]["info"]["video.codec"] == "h264"
    )
    last = dataset[len(dataset) - 1]
    assert last["episode_index"].item() == 1
    assert last["index"].item() == summary["frames"] - 1
    assert last["observation.images.color"].shape == (3, 48, 64)
    assert "observation.depth" not in last


def test_bad_exports_are_one_sentence(tmp_path: Path) -> None:
    log = write_rgbd_log(tmp_path / "log", seconds=0.2)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("old")
    with pytest.raises(LogError, match="already exists"):
        export_lerobot([log], LeRobotOptions(out=tmp_path / "full"))
    with pytest.raises(LogError, match="does not exist"):
        export_lerobot([tmp_path / "missing"], LeRobotOptions(out=tmp_path / "new"))


def test_failed_joint_reads_stay_nan_and_stats_leave_them_out(tmp_path: Path) -> None:
    from edge_runtime.recording import lerobot_layout as layout

    state = np.array([[0.1, 0.2], [np.nan, np.nan], [0.3, np.nan]])
    stats = layout.vector_stats(state)
    assert stats["mean"].tolist() == pytest.approx([0.2, 0.2])
    assert stats["count"].tolist() == [1]
    merged = layout.aggregate([stats, layout.vector_stats(np.full((2, 2), np.nan))])
    assert np.isfinite(merged["mean"]).all()

"""`log export --format mcap`: the `mcap` reader gets every channel with the log's message counts,
Foxglove's well-known schemas, and the log's values."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from field_logs import JOINTS, write_rgbd_log

from edge_runtime.recording import LogError, LogReader
from edge_runtime.recording.codecs import decode_depth
from edge_runtime.recording.export_mcap import export_mcap
from edge_runtime.recording.mcap_messages import protobuf_class

pytest.importorskip("mcap", reason="the export tools: pip install 'edge-runtime[data]'")
pytest.importorskip("foxglove_schemas_protobuf", reason="pip install 'edge-runtime[data]'")


def read_mcap(path: Path) -> tuple[dict[str, list], dict[str, str], dict[str, str]]:
    from mcap.reader import make_reader

    messages: dict[str, list] = {}
    with open(path, "rb") as stream:
        reader = make_reader(stream)
        for schema, channel, message in reader.iter_messages():
            messages.setdefault(channel.topic, []).append((schema, message))
        summary = reader.get_summary()
        metadata = {m.name: m.metadata for m in reader.iter_metadata()}
    schemas = {c.topic: summary.schemas[c.schema_id].name for c in summary.channels.values()}
    return messages, schemas, metadata["edgerun.start"]


def test_mcap_round_trips_every_channel_with_the_logs_counts(tmp_path: Path) -> None:
    log = write_rgbd_log(tmp_path / "log", seconds=0.6, markers=((0.3, "place"),))
    out = tmp_path / "run.mcap"
    result = export_mcap([log], out, jobs=1)
    messages, schemas, start = read_mcap(out)

    records = LogReader(log).read_all()
    kinds = Counter(r["k"] for r in records)
    with_wm = sum(1 for r in records if r["k"] == "chunk" and r.get("wm"))
    expected = {
        "/camera/color": kinds["frame"],
        "/camera/depth": kinds["frame"],
        "/camera/calibration": kinds["frame"],
        "/joint_states": kinds["tick"],
        "/joint_commands": kinds["tick"],
        "/loop_timing": kinds["tick"],
        "/action_chunks": kinds["chunk"],
        "/world_model": with_wm,
        "/events": kinds["event"] + kinds["drops"],
    }
    assert {t: len(m) for t, m in messages.items()} == expected
    assert result["files"][0]["messages"] == expected
    assert schemas["/camera/color"] == "foxglove.CompressedImage"
    assert schemas["/camera/depth"] == "foxglove.RawImage"
    assert schemas["/joint_states"] == "foxglove.JointStates"
    assert schemas["/events"] == "foxglove.Log"
    assert json.loads(start["bundle"])["manifest_sha256"] == "b" * 64

    ticks = [r for r in records if r["k"] == "tick"]
    states = protobuf_class("foxglove.JointStates")()
    states.ParseFromString(messages["/joint_states"][5][1].data)
    assert [j.name for j in states.joints] == JOINTS
    assert [j.position for j in states.joints] == ticks[5]["pos"].tolist()
    anchor = records[0]["wall_ns"] - records[0]["t_ns"]
    assert messages["/joint_states"][5][1].log_time == ticks[5]["start_ns"] + anchor

    frame = next(r for r in records if r["k"] == "frame")
    depth = protobuf_class("foxglove.RawImage")()
    depth.ParseFromString(messages["/camera/depth"][0][1].data)
    pixels = np.frombuffer(depth.data, "<u2").reshape(depth.height, depth.width)
    assert np.array_equal(pixels, decode_depth(frame["depth"]))
    assert depth.encoding == "16UC1"
    color = protobuf_class("foxglove.CompressedImage")()
    color.ParseFromString(messages["/camera/color"][0][1].data)
    assert color.data == frame["color"]["data"]  # the JPEG bytes, copied

    chunk = json.loads(messages["/action_chunks"][0][1].data)
    assert chunk["world_model"]["plan_cost"] == 1.5
    assert np.allclose(chunk["actions"], next(r for r in records if r["k"] == "chunk")["actions"])
    events = protobuf_class("foxglove.Log")()
    names = set()
    for _, message in messages["/events"]:
        events.ParseFromString(message.data)
        names.add(events.name)
    assert names == {"clamp", "world_model_warn", "episode"}


def test_several_logs_go_to_one_file_each(tmp_path: Path) -> None:
    logs = [write_rgbd_log(tmp_path / f"cell{i}", seconds=0.2, seed=i) for i in range(2)]
    result = export_mcap(logs, tmp_path / "mcap", jobs=1)
    assert [Path(f["out"]).name for f in result["files"]] == ["cell0.mcap", "cell1.mcap"]
    with pytest.raises(LogError, match="already exists"):
        export_mcap(logs[:1], tmp_path / "mcap" / "cell0.mcap")


def test_export_bench_runs_every_format(tmp_path: Path) -> None:
    from edge_runtime.recording.export_bench import run_export_bench

    result = run_export_bench(seconds=0.3, width=64, height=48, work_dir=tmp_path)
    assert [r["frames"] for r in result["runs"]] == [9] * 5
    assert all(r["frames_per_s"] > 0 for r in result["runs"])

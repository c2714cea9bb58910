"""`edgerun bench recorder` runs end to end and writes its JSON (figures are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from edge_runtime.cli.main import main


def test_rec_bench_recorder_json_shape(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", "recorder", "--seconds", "0.3", "--no-realtime", "--dir", str(tmp_path)]
    assert main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    codecs = {(row["stream"], row["codec"]) for row in result["codecs"]}
    assert ("color", "jpeg q90 (chosen)") in codecs
    assert ("depth", "zlib-delta (chosen)") in codecs
    assert [run["mode"] for run in result["runs"]] == ["off", "thread", "process"]
    for run in result["runs"]:
        assert run["ticks"] == 30
        assert {"p50", "p99", "max"} <= set(run["lateness_us"])
    for run in result["runs"][1:]:
        assert run["error"] is None
        assert run["records"] >= 30
        assert run["drops"] == 0 or run["drops"] > 0  # reported either way
    assert list(tmp_path.glob("edgerun-bench-rec-*")) == []  # the temporary log is removed

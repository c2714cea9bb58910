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
    without, with_rec = result["runs"]
    assert without["recording"] is False
    assert with_rec["recording"] is True
    assert with_rec["ticks"] == without["ticks"] == 30
    assert {"p50", "p99", "max"} <= set(with_rec["lateness_us"])
    assert with_rec["error"] is None
    assert with_rec["records"] >= 30
    assert "drops" in with_rec
    assert list(tmp_path.glob("edgerun-bench-rec-*")) == []  # the temporary log is removed

"""`edgerun bench loop` plumbing on tiny runs: shapes of results, JSON, table, plot.

Only structure is checked; the benchmark's numbers are for docs/perf/loop.md, never tests.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_runtime.bench.loop_bench import ControlStep, LoopSettings, run_loop_bench
from edge_runtime.bench.report import lookup, print_table, write_json
from edge_runtime.cli.main import main
from edge_runtime.ipc.latest_slot import LatestSlot
from edge_runtime.loop.scheduler import Tick

QUIET = {"realtime": False, "spin_s": 0.0, "switch_interval_s": None}


def test_control_step_clamps_and_limits_the_step() -> None:
    chunks: LatestSlot[np.ndarray] = LatestSlot()
    step = ControlStep(chunks, period_s=0.01)
    step(Tick(0, 0, 0, 0, 0))  # no chunk yet: hold
    assert step.command.tolist() == [0.0] * 6
    chunks.put(np.full((16, 6), 5.0))
    for i in range(1, 4):
        step(Tick(i, 0, 0, 0, 0))
    assert np.allclose(step.command, 3 * 0.02)  # 2 rad/s * 10 ms per tick, toward the limit
    assert len(step.record) == 4


def test_run_loop_bench_shapes_without_load() -> None:
    variants = [LoopSettings(**QUIET, isolation="thread"), LoopSettings(**QUIET)]
    result = run_loop_bench([500.0], 20, "none", variants, overhead_ticks=10)
    runs = result["runs"]
    assert [(r["loop"], r.get("step")) for r in runs] == [
        ("baseline", None),
        ("edgerun", None),
        ("edgerun", None),
        ("edgerun", "noop"),
    ]
    assert [r["setup"].get("isolation") for r in runs[1:3]] == ["thread", "process"]
    for run in runs:
        assert run["rate_hz"] == 500.0
        assert set(run["lateness_us"]) == {"p50", "p99", "max"}
        assert run["missed"] >= 0
        assert run["overhead_us_p50"] >= 0
        assert run["_lateness_ns"].size == run["ticks"]
    assert runs[0]["ticks"] == 20
    assert runs[3]["ticks"] == 10
    assert result["load"]["kind"] == "none"
    assert len(result["verdicts"]) == 3  # 500 Hz lateness for each variant, tick overhead


def test_report_table_and_json(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"loop": "edgerun", "lateness_us": {"p99": 12.5}, "ticks": 10_000}]
    print_table("t", rows, [("loop", "loop"), ("lateness_us.p99", "p99"), ("x.y", "none")])
    out = capsys.readouterr().out
    assert "edgerun" in out
    assert "12.5" in out
    assert lookup(rows[0], "lateness_us.p99") == 12.5
    assert lookup(rows[0], "x.y") is None
    path = write_json(tmp_path / "sub" / "r.json", {"runs": rows})
    data = json.loads(path.read_text())
    assert data["runs"] == rows
    assert data["machine"]["cpus"] >= 1


def test_cli_bench_loop_writes_json_and_plot(tmp_path) -> None:
    out_json, out_png = tmp_path / "loop.json", tmp_path / "loop.png"
    code = main(
        [
            "bench", "loop", "--rate", "500", "--ticks", "20", "--load", "none",
            "--isolation", "thread", "--no-realtime", "--spin-us", "0",
            "--json", str(out_json), "--plot", str(out_png),
        ]
    )  # fmt: skip
    assert code == 0
    runs = json.loads(out_json.read_text())["runs"]
    assert {r["loop"] for r in runs} == {"baseline", "edgerun"}
    assert all(not k.startswith("_") for r in runs for k in r)
    assert out_png.stat().st_size > 0


def test_cli_rejects_a_bad_rate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "loop", "--rate", "0"])
    assert exit_info.value.code == 2
    assert "must be > 0" in capsys.readouterr().err


def test_verdicts_name_each_target() -> None:
    from edge_runtime.bench.loop_targets import verdicts

    def run(rate: float, p99: float, missed: int = 0, **extra) -> dict:
        return {"loop": "edgerun", "rate_hz": rate, "ticks": 10_000, "missed": missed,
                "lateness_us": {"p99": p99}, **extra}  # fmt: skip

    lines = verdicts(
        [
            {"loop": "baseline", "rate_hz": 100.0},
            run(100.0, 250.0),
            run(100.0, 250.0, missed=1),
            run(500.0, 600.0),
            run(500.0, 0.0, step="noop", overhead_us_p50=9.5),
        ]
    )
    assert lines[0].startswith("met: 100 Hz")
    assert lines[1].startswith("NOT met: 100 Hz")  # a miss at 100 Hz fails the target
    assert lines[2].startswith("NOT met: 500 Hz")
    assert lines[3].startswith("met: runtime overhead")
    assert len(lines) == 4

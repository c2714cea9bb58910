"""LoopSummary: bounded ring, whole-run counts, percentiles in µs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_runtime.loop.summary import LoopSummary


def test_empty_summary_reports_zeros() -> None:
    d = LoopSummary(10_000_000).as_dict()
    assert d["ticks"] == 0
    assert d["lateness_us"] == {"p50": 0.0, "p99": 0.0, "max": 0.0}
    assert d["rate_hz"] == 100.0
    json.dumps(d)  # plain numbers only


def test_ring_keeps_the_newest_ticks_in_order_and_counts_all() -> None:
    summary = LoopSummary(1_000_000, capacity=8)
    for i in range(20):
        summary.record(lateness_ns=i * 1000, step_ns=i, overhead_ns=1, missed_before=i % 5 == 0)
    assert summary.ticks == 20
    assert summary.lateness_ns().tolist() == [i * 1000 for i in range(12, 20)]
    assert summary.step_ns().tolist() == list(range(12, 20))
    assert summary.max_lateness_ns == 19_000
    assert summary.missed == 4  # ticks 0, 5, 10, 15
    assert summary.overruns == 4
    assert summary.as_dict()["window_ticks"] == 8


def test_max_covers_the_whole_run_beyond_the_window() -> None:
    summary = LoopSummary(1_000_000, capacity=4)
    summary.record(lateness_ns=900_000, step_ns=0, overhead_ns=0, missed_before=0)
    for _ in range(10):
        summary.record(lateness_ns=1_000, step_ns=0, overhead_ns=0, missed_before=0)
    d = summary.as_dict()
    assert d["lateness_us"]["p99"] == 1.0
    assert d["lateness_us"]["max"] == 900.0


def test_percentiles_match_numpy() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 500_000, size=1000)
    summary = LoopSummary(2_000_000)
    for v in values:
        summary.record(lateness_ns=int(v), step_ns=int(v) // 2, overhead_ns=100, missed_before=0)
    d = summary.as_dict()
    assert d["lateness_us"]["p50"] == pytest.approx(np.percentile(values, 50) / 1e3, abs=0.1)
    assert d["lateness_us"]["p99"] == pytest.approx(np.percentile(values, 99) / 1e3, abs=0.1)
    assert d["overhead_us"] == {"p50": 0.1, "p99": 0.1}
    assert "p50=" in repr(summary)


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        LoopSummary(1_000_000, capacity=0)


def test_summary_pickles_for_the_trip_back_from_a_control_process() -> None:
    import pickle

    summary = LoopSummary(10_000_000, capacity=4)
    for i in range(6):
        summary.record(lateness_ns=i * 1000, step_ns=10, overhead_ns=1, missed_before=i == 5)
    copy = pickle.loads(pickle.dumps(summary))
    assert copy.as_dict() == summary.as_dict()
    assert copy.lateness_ns().tolist() == [2000, 3000, 4000, 5000]
    copy.record(lateness_ns=0, step_ns=0, overhead_ns=0, missed_before=0)  # its lock works
    assert copy.ticks == 7

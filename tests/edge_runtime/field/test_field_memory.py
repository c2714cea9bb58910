"""The selftest's memory line: the control process's footprint, started as `run` starts it."""

from __future__ import annotations

from edge_runtime.drive import demo_config
from edge_runtime.field.selftest import memory_check


def test_selftest_reports_the_control_process_and_this_process() -> None:
    check = memory_check(demo_config("mcu"), None)  # the bus is never opened: no device needed
    assert check.name == "memory"
    assert check.status in ("ok", "warn")  # warn: above the goal, which is not a failure
    assert check.values["control_rss_mb"] > 0, check.detail  # the child reported
    assert check.values["runtime_peak_rss_mb"] > 0
    assert "control process" in check.detail

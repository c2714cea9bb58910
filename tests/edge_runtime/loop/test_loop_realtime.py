"""configure_realtime: applies what the OS permits, reports the rest, one log line each.

Settings that are per-thread are tried on a helper thread so the pytest thread keeps its
normal scheduling; process-wide settings are undone after each test.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

import pytest

from edge_runtime.loop.realtime import (
    RealtimeReport,
    available_cpus,
    configure_realtime,
    set_gil_switch_interval,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux-only knobs")


def on_thread(fn):
    """Run fn on a fresh thread and return its result (re-raising its exception)."""
    out: dict[str, object] = {}

    def body() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # pragma: no cover - re-raised below
            out["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(30)
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]


@linux_only
def test_timer_slack_is_applied_to_the_calling_thread() -> None:
    def apply() -> tuple[RealtimeReport, int]:
        import ctypes

        report = configure_realtime(
            priority=None, lock_memory=False, freeze_gc=False, timer_slack_ns=1
        )
        libc = ctypes.CDLL(None, use_errno=True)
        return report, libc.prctl(30, 0, 0, 0, 0)  # PR_GET_TIMERSLACK

    report, slack = on_thread(apply)
    assert report.timer_slack_ns == 1
    assert slack == 1
    assert report.skipped == []
    assert "timer slack 1 ns" in report.describe()


def test_refused_setting_logs_once_and_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edge_runtime.loop.realtime")
    report = on_thread(
        lambda: configure_realtime(
            priority=10_000, lock_memory=False, freeze_gc=False, timer_slack_ns=None
        )
    )
    assert report.priority is None
    assert len(report.skipped) == 1
    assert report.skipped[0].startswith("SCHED_FIFO")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "SCHED_FIFO" in warnings[0].getMessage()
    assert "skipped: SCHED_FIFO" in report.describe()


@linux_only
def test_fifo_and_affinity_apply_to_the_calling_thread_only() -> None:
    cpu = available_cpus()[-1]
    main_policy = os.sched_getscheduler(0)

    def apply() -> tuple[RealtimeReport, int, set[int]]:
        report = configure_realtime(
            priority=1, cpu=cpu, lock_memory=False, freeze_gc=False, timer_slack_ns=None
        )
        return report, os.sched_getscheduler(0), os.sched_getaffinity(0)

    report, policy, affinity = on_thread(apply)
    if report.priority is None:  # no CAP_SYS_NICE here: the fallback is the behaviour
        assert report.skipped
        assert report.skipped[0].startswith("SCHED_FIFO")
    else:
        assert policy == os.SCHED_FIFO
    assert report.cpu == cpu
    assert affinity == {cpu}
    assert os.sched_getscheduler(0) == main_policy


def test_gc_freeze_and_memory_lock_are_reported() -> None:
    # In a child process: mlockall and gc.freeze are process-wide and must not leak into
    # the rest of the test session.
    code = (
        "import gc; from edge_runtime.loop.realtime import configure_realtime as c;"
        "r = c(priority=None, timer_slack_ns=None);"
        "print(r.gc_frozen, gc.get_freeze_count() > 0, r.memory_locked, r.skipped)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    frozen, counted, locked, skipped = out.stdout.split(" ", 3)
    assert (frozen, counted) == ("True", "True")
    assert locked == "True" or "mlockall" in skipped


def test_gil_switch_interval_returns_the_previous_value() -> None:
    before = sys.getswitchinterval()
    try:
        assert set_gil_switch_interval(0.0002) == before
        assert sys.getswitchinterval() == pytest.approx(0.0002)
    finally:
        sys.setswitchinterval(before)
    with pytest.raises(ValueError, match="switch interval"):
        set_gil_switch_interval(0)

"""The control process: the motors, the safety filter and the scheduler, with a GIL of its own.

Why a process (docs/perf/loop.md): a control *thread* shares the GIL with the inference
worker, and under load its lateness p99 reached milliseconds whatever the switch interval;
in its own process the same load left it in microseconds. This process owns the serial port
from open to torque-off: every way out of `control_main` — the end of the run, the stop
event, SIGTERM/SIGINT, a fault — closes the bus, which turns torque off on every motor.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_runtime.ipc.channels import Channels
from edge_runtime.loop.clock import MonotonicClock
from edge_runtime.loop.control import ControlLoop
from edge_runtime.loop.realtime import available_cpus, configure_realtime
from edge_runtime.loop.safety import SafetyFilter, SafetyLimits
from edge_runtime.loop.scheduler import FixedRateScheduler
from firmware_bridge.base import MotorBus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControlSpec:
    """Everything the control process needs; picklable (the bus is built in the child)."""

    bus_factory: Callable[[], MotorBus]
    period_s: float
    limits: SafetyLimits
    stale_observation_s: float
    max_tracking_error_rad: float
    max_ticks: int | None
    realtime: bool = True
    realtime_priority: int | None = 80
    log_level: int = logging.INFO


def control_main(spec: ControlSpec, channels: Channels, conn: Any) -> None:
    """Child entry point. Sends one result dict on `conn`, whatever happens."""
    logging.basicConfig(
        level=spec.log_level,
        format="%(asctime)s %(levelname)s %(name)s[control]: %(message)s",
        datefmt="%H:%M:%S",
    )
    result: dict[str, Any] = {"fault": "", "stop_reason": "", "armed": False}

    stop = _StopFlag(channels.stop)

    def on_signal(signum: int, _frame: object) -> None:
        result["stop_reason"] = result["stop_reason"] or f"signal {signal.Signals(signum).name}"
        stop.signalled = True  # no lock taken in a handler (see _StopFlag)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    _die_with_parent()
    bus: MotorBus | None = None
    loop: ControlLoop | None = None
    scheduler = FixedRateScheduler(spec.period_s, MonotonicClock(), spin_s=0.0002)
    try:
        if spec.realtime:
            cpus = available_cpus()
            configure_realtime(
                priority=spec.realtime_priority, cpu=cpus[-1] if len(cpus) > 1 else None
            )
        bus = spec.bus_factory()
        safety = SafetyFilter(spec.limits)
        loop = ControlLoop(
            bus,
            channels,
            safety,
            spec.stale_observation_s,
            channels.stop,
            MonotonicClock(),
            spec.max_tracking_error_rad,
        )
        if not stop.is_set():
            loop.start()  # torque on, then the first goal within one period
            result["armed"] = True
            scheduler.run(loop.step, max_ticks=spec.max_ticks, stop=stop)
        if not stop.is_set():
            result["stop_reason"] = result["stop_reason"] or "duration reached"
        result["safety_counts"] = dict(safety.counts)
    except BaseException as exc:  # every fault ends with torque off below, and is reported
        log.exception("control process failed")
        result["fault"] = f"control process failed: {exc}"
    finally:
        channels.stop.set()
        if bus is not None:
            try:
                bus.close()  # torque off on every motor, continuing past failures
            except BaseException as exc:
                result["fault"] = result["fault"] or f"torque off reported a failure: {exc}"
        if loop is not None:
            result["stop_reason"] = loop.stop_reason or result["stop_reason"]
            result["bus_errors"] = loop.bus_errors
            result["chunks"] = {
                "received": loop.queue.chunks_received,
                "discarded": loop.queue.chunks_discarded,
                "actions_dropped": loop.queue.actions_dropped,
                "actions_blended": loop.queue.actions_blended,
            }
        result["summary"] = scheduler.summary
        result["ticks_dropped"] = channels.ticks.writer_dropped
        conn.send(result)
        conn.close()
        channels.close()


class _StopFlag:
    """The shared stop event, plus a flag a signal handler may set without taking a lock.

    A handler runs in the main thread between bytecodes, possibly while that thread holds the
    event's lock inside `is_set()`; calling `set()` there would deadlock the control loop.
    """

    def __init__(self, event: Any) -> None:
        self.event = event
        self.signalled = False

    def is_set(self) -> bool:
        return self.signalled or self.event.is_set()

    def set(self) -> None:
        self.event.set()


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this process if the runtime process dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the safety hold timeout still stops it
        pass

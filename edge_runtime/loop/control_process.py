"""The control process: the motors, the safety filter and the scheduler, with a GIL of its own.

Why a process (docs/perf/loop.md): a control *thread* shares the GIL with the inference
worker, and under load its lateness p99 reached milliseconds whatever the switch interval;
in its own process the same load left it in microseconds. This process owns the serial port
from open to torque-off: every way out of `control_main` — the end of the run, the stop
event, SIGTERM/SIGINT, a fault — closes the bus, which turns torque off on every motor.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.ipc.channels import Channels
from edge_runtime.ipc.lifetime import die_with_parent
from edge_runtime.loop.bus_spec import MotorBusSpec, MultiBusSpec
from edge_runtime.loop.chunks import ChunkCounts
from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.loop.control import ControlLoop
from edge_runtime.loop.process_memory import ProcessMemory, process_memory
from edge_runtime.loop.realtime import available_cpus, configure_realtime
from edge_runtime.loop.safety import SafetyFilter
from edge_runtime.loop.scheduler import FixedRateScheduler
from edge_runtime.loop.settings import RuntimeSettings
from edge_runtime.loop.summary import LoopSummary
from firmware_bridge.base import MotorBus

log = logging.getLogger(__name__)

SPIN_S = 0.0002  # see FixedRateScheduler: 200 µs of spin buys µs lateness for ~3% of a core


@dataclass(frozen=True)
class ControlSpec:
    """Everything the control process needs; picklable (the bus is built in the child)."""

    bus_factory: Callable[[], MotorBus]
    settings: RuntimeSettings
    max_ticks: int | None
    clock: Clock = field(default_factory=MonotonicClock)
    log_level: int = logging.INFO


@dataclass(frozen=True)
class ControlResult:
    """The control process's report, sent once on its pipe whatever happened."""

    summary: LoopSummary
    armed: bool = False
    stop_reason: str = ""  # "duration reached", "signal SIGTERM", "safety stop: ..."
    fault: str = ""
    safety_counts: Mapping[str, int] = field(default_factory=dict)
    bus_errors: int = 0
    chunks: ChunkCounts = field(default_factory=ChunkCounts)
    ticks_dropped: int = 0  # tick records the ring could not take in time
    memory: ProcessMemory = field(default_factory=ProcessMemory)  # this process's, at its end


def control_main(spec: ControlSpec, channels: Channels, conn: Any) -> None:
    """Child entry point. Sends one `ControlResult` on `conn`, whatever happens."""
    channels.attached.set()  # every name is mapped here now: the runtime may unlink them
    logging.basicConfig(
        level=spec.log_level,
        format="%(asctime)s %(levelname)s %(name)s[control]: %(message)s",
        datefmt="%H:%M:%S",
    )
    stop = _StopFlag(channels.stop)

    def on_signal(signum: int, _frame: object) -> None:
        stop.signalled = stop.signalled or f"signal {signal.Signals(signum).name}"

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    die_with_parent()
    settings = spec.settings
    bus: MotorBus | None = None
    loop: ControlLoop | None = None
    safety = SafetyFilter(settings.limits)
    scheduler = FixedRateScheduler(settings.period_s, spec.clock, spin_s=SPIN_S)
    armed, stop_reason, fault = False, "", ""
    try:
        if settings.realtime:
            cpus = available_cpus()
            configure_realtime(
                priority=settings.realtime_priority, cpu=cpus[-1] if len(cpus) > 1 else None
            )
        bus = spec.bus_factory()
        loop = ControlLoop(bus, channels, safety, settings, channels.stop, spec.clock)
        if not stop.is_set():
            loop.start()  # torque on, then the first goal within one period
            armed = True
            scheduler.run(loop.step, max_ticks=spec.max_ticks, stop=stop)
        if not stop.is_set():
            stop_reason = "duration reached"
    except BaseException as exc:  # every fault ends with torque off below, and is reported
        log.exception("control process failed")
        fault = f"control process failed: {exc}"
    finally:
        channels.stop.set()
        if bus is not None:
            safety_stop = loop is not None and loop.stop_reason.startswith("safety stop")
            emergency = armed and (safety_stop or fault or channels.emergency.is_set())
            # Latch the device's own stop first (an MCU e-stop): it holds even if the
            # torque-off below, or this process, fails halfway.
            if emergency and bus.emergency_stop():
                log.warning("the motor device latched its e-stop; torque off follows")
            try:
                bus.close()  # torque off on every motor, continuing past failures
            except BaseException as exc:
                fault = fault or f"torque off reported a failure: {exc}"
        result = ControlResult(
            summary=scheduler.summary,
            armed=armed,
            stop_reason=(loop.stop_reason if loop else "") or stop.signalled or stop_reason,
            fault=fault,
            safety_counts=dict(safety.counts),
            bus_errors=loop.bus_errors if loop else 0,
            chunks=loop.queue.counts() if loop else ChunkCounts(),
            ticks_dropped=channels.ticks.writer_dropped,
            memory=process_memory(),
        )
        with contextlib.suppress(OSError):  # a killed runtime is gone; torque is off already
            conn.send(result)
        conn.close()
        channels.close()


def control_footprint(
    bus: MotorBusSpec | MultiBusSpec, lock_memory: bool, timeout_s: float = 60.0
) -> ProcessMemory:
    """The memory a control process holds before its loop runs (zeros if it could not say).

    A child started as `Runtime` starts the control process (spawn, this module, `bus`
    pickled) imports the bus's driver and locks its memory as `run` would, then reports; the
    bus is never opened, so torque stays off. For `edgerun selftest`: what `run` will cost.
    """
    ctx = mp.get_context("spawn")
    conn, child_conn = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_footprint_main, args=(bus, lock_memory, child_conn), name="edgerun-control"
    )
    child.start()
    child_conn.close()
    try:
        return conn.recv() if conn.poll(timeout_s) else ProcessMemory()
    except EOFError:  # it died before reporting (a failed import is logged by the child)
        return ProcessMemory()
    finally:
        conn.close()
        child.join(timeout=5.0)
        if child.is_alive():
            child.kill()
            child.join()


def _footprint_main(bus: MotorBusSpec | MultiBusSpec, lock_memory: bool, conn: Any) -> None:
    bus.load_driver()
    if lock_memory:
        configure_realtime(priority=None, timer_slack_ns=None, lock_memory=True)
    conn.send(process_memory())
    conn.close()


class _StopFlag:
    """The shared stop flag, plus the signal a handler saw.

    A handler runs in the main thread between bytecodes; it only records the signal's name
    here ("" until one arrives) and the loop reads it with the shared flag.
    """

    def __init__(self, event: Any) -> None:
        self.event = event
        self.signalled = ""

    def is_set(self) -> bool:
        return bool(self.signalled) or self.event.is_set()

    def set(self) -> None:
        self.event.set()

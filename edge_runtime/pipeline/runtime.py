"""The runtime: camera and inference worker here, the control loop in its own process.

This process runs the camera's capture thread, the inference worker and the observers (the
recorder); the control process (`edge_runtime.loop.control_process`) owns the motors. Chunks,
joint states and tick records cross in shared memory (`edge_runtime.ipc.channels`). One stop
event ends both: a fault in any thread, SIGINT/SIGTERM, the end of the run or a safety stop.
The control process turns torque off on its way out; should it die instead (killed, crashed),
this process re-opens the bus and turns torque off itself, and the servos' own watchdogs stop
them meanwhile. SIGTERM/SIGINT are passed on to the control process at once, so a stop asked
for takes effect at its next tick, not at this process's next look (every 50 ms).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait as wait_for_any
from types import FrameType
from typing import Any

from edge_runtime.errors import EdgeRuntimeError, EngineError, RuntimeFault, SafetyStop
from edge_runtime.ipc.channels import Channels, event_kinds
from edge_runtime.ipc.names import remove_leftovers
from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.loop.control_process import ControlResult, ControlSpec, control_main
from edge_runtime.loop.process_memory import memory_report, process_memory
from edge_runtime.loop.settings import RuntimeSettings
from edge_runtime.loop.summary import LoopSummary
from edge_runtime.pipeline.inference import InferenceWorker, WorldModelLink
from edge_runtime.pipeline.observer import LoopObserver, ObserverFanout
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.sensors.base import Camera
from edge_runtime.world_model.agent import WorldModelSetup
from firmware_bridge.base import MotorBus

log = logging.getLogger(__name__)

SAFETY_STOP = "safety stop"  # prefix of a stop reason the safety filter gave


@dataclass(frozen=True)
class RunResult:
    summary: LoopSummary
    stop_reason: str
    fault: str
    safety_counts: Mapping[str, int]
    inference_us: Mapping[str, float]
    latency_us: Mapping[str, float]
    chunks: Mapping[str, int]
    bus_errors: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error() is None

    def error(self) -> EdgeRuntimeError | None:
        """How the run ended, as the error the CLI raises (None: it ended as asked)."""
        if self.fault:
            return RuntimeFault(f"the robot was stopped, torque off: {self.fault}")
        if self.stop_reason.startswith(SAFETY_STOP):
            return SafetyStop(f"the robot was stopped, torque off: {self.stop_reason}")
        return None


class Runtime:
    def __init__(
        self,
        bus_factory: Callable[[], MotorBus],
        camera: Camera,
        make_policy: Callable[[], BundlePolicy],
        settings: RuntimeSettings,
        observers: list[LoopObserver] | None = None,
        clock: Clock | None = None,
        world_model: WorldModelSetup | None = None,
    ) -> None:
        self.bus_factory = bus_factory
        self.camera = camera
        self.settings = settings
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.observers = ObserverFanout(observers or [])
        self._ctx = mp.get_context("spawn")
        remove_leftovers()  # shared memory of runs killed before they could unlink it
        self.channels = Channels.create(settings.joints, settings.chunk_length)
        self._control_pid = 0
        self._fault = ""
        self._safety_stop = ""
        self._fault_lock = threading.Lock()
        self.stop_reason = ""
        link = None
        if world_model is not None:
            link = WorldModelLink(
                world_model.build, self.channels.recent_history, self.safety_stop,
                world_model.step_s,
            )  # fmt: skip
        self.worker = InferenceWorker(
            make_policy, camera, self.channels.joints_at,
            self.channels.publish_chunk, self.clock, self.observers, self.fault,
            settings.max_frame_age_s, link,
        )  # fmt: skip

    def fault(self, where: str, exc: BaseException) -> None:
        """Any thread: record the first fault and stop the robot."""
        with self._fault_lock:
            if not self._fault:
                self._fault = f"{where}: {exc}"
                log.error("fault, stopping the robot: %s", self._fault, exc_info=exc)
        self.observers.on_event("fault", f"{where}: {exc}", self.clock.now_ns())
        self.channels.emergency.set()
        self.channels.stop.set()

    def safety_stop(self, reason: str) -> None:
        """Any thread: stop the robot safely for `reason` (a latched safety stop, not a fault)."""
        with self._fault_lock:
            first = not self._safety_stop
            if first:
                self._safety_stop = reason
                log.error("safety stop: %s", reason)
        if first:  # observers hear it now (the service latches it before anything else)
            self.observers.on_event("stop", reason, self.clock.now_ns())
        self.channels.emergency.set()
        self.channels.stop.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only a plain assignment here: the handler runs in the main thread, possibly while it
        # holds the stop event's lock (inside `is_set`), so calling `set()` could deadlock.
        self.stop_reason = self.stop_reason or f"signal {signal.Signals(signum).name}"
        if self._control_pid:  # the control loop stops at its next tick, torque off
            with contextlib.suppress(OSError):
                os.kill(self._control_pid, signum)

    def _stopping(self) -> bool:
        return bool(self.stop_reason) or self.channels.stop.is_set()

    def run(self, duration_s: float | None = None) -> RunResult:
        handlers = self._install_signal_handlers()
        control: Any = None
        conn: Any = None
        child: ControlResult | None = None
        try:
            self.camera.on_fault = self.fault
            self.camera.start()
            self.worker.start()
            if not self.worker.ready.wait(self.settings.warmup_timeout_s):
                raise EngineError("the inference worker did not load the models in time")
            if self._stopping():
                return self._result(None, 0)  # no models or a signal: torque never on
            self.observers.on_start(list(self.settings.joint_names), self.settings.period_s)
            conn, child_conn = self._ctx.Pipe(duplex=False)
            spec = ControlSpec(
                bus_factory=self.bus_factory,
                settings=self.settings,
                max_ticks=self.settings.ticks_for(duration_s),
                clock=self.clock,
                log_level=logging.getLogger().getEffectiveLevel(),
            )
            control = self._ctx.Process(
                target=control_main, args=(spec, self.channels, child_conn), name="edgerun-control"
            )
            control.start()
            self._control_pid = control.pid
            child_conn.close()
            while control.is_alive() and not self._stopping():
                wait_for_any([control.sentinel], 0.05)  # wakes at once if the process dies
                if self.channels.attached.is_set():
                    self.channels.unlink()  # attached: no kill can leave names behind now
                self._forward_ticks()
        finally:
            self.channels.stop.set()
            self._control_pid = 0
            if control is not None:
                child = self._join_control(control, conn)
            self._forward_ticks()
            # Counted in shared memory: known even when the control process was killed (its
            # own report, with its count, died with it) and the log shows the gap.
            ticks = self.channels.ticks
            ticks_dropped = ticks.writer_dropped + ticks.reader_dropped
            self._shutdown()
            self._restore_signal_handlers(handlers)
        return self._result(child, ticks_dropped)

    def _join_control(self, control: Any, conn: Any) -> ControlResult | None:
        result: ControlResult | None = None
        if conn.poll(10.0):
            try:
                result = conn.recv()
            except EOFError:
                result = None
        control.join(timeout=5.0)
        if control.is_alive():
            control.kill()
            control.join(timeout=2.0)
        if result is None:
            # The control process died without reporting: make sure torque is off anyway.
            died = f"the control process died (exit code {control.exitcode})"
            self._fault = self._fault or died
            self.observers.on_event("fault", died, self.clock.now_ns())  # noticed: now
            self._backup_torque_off()
        return result

    def _backup_torque_off(self) -> None:
        try:
            bus = _open_unverified(self.bus_factory)
            bus.emergency_stop()  # the death is a fault: latch the device's own stop first
            bus.close()
            log.warning("torque turned off by the runtime process after the control process died")
        except Exception as exc:
            log.error("backup torque off failed: %s (the servo watchdogs stop the motors)", exc)

    def _forward_ticks(self) -> None:
        for record, bits, hold_reason in self.channels.drain_ticks():
            self.observers.on_tick(record)
            for kind in event_kinds(bits):
                self.observers.on_event(
                    kind, hold_reason if kind in ("hold", "stop") else "", record.start_ns
                )

    def _shutdown(self) -> None:
        for name, action in (("inference worker", self.worker.stop), ("camera", self.camera.stop)):
            try:
                action()
            except Exception:
                log.exception("stopping the %s failed", name)
        self.observers.on_stop()
        self.channels.close()
        self.channels.unlink()

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _result(self, child: ControlResult | None, ticks_dropped: int) -> RunResult:
        if child is None:
            child = ControlResult(summary=LoopSummary(round(self.settings.period_s * 1e9)))
        fault = self._fault or child.fault
        reason = child.stop_reason
        if self._safety_stop and not reason.startswith(SAFETY_STOP):
            reason = f"{SAFETY_STOP}: {self._safety_stop}"
        if reason.startswith("signal") or not reason:
            reason = self.stop_reason or reason or ("fault" if fault else "")
        chunks = {
            **asdict(child.chunks),
            "stale_frames_skipped": self.worker.stale_frames_skipped,
            "ticks_dropped": max(ticks_dropped, child.ticks_dropped),
        }
        return RunResult(
            summary=child.summary,
            stop_reason=reason,
            fault=fault,
            safety_counts=dict(child.safety_counts),
            inference_us=self.worker.inference_ns.percentiles_us(50, 99),
            latency_us=self.worker.latency_ns.percentiles_us(50, 99),
            chunks=chunks,
            bus_errors=child.bus_errors,
            extra={
                "memory": memory_report(child.memory, process_memory(), self.worker.gpu_memory_mb),
                **({"world_model": agent.summary()} if (agent := self.worker.agent) else {}),
                # A camera set's frame sets: how many, the skew p50/p99, frames left out.
                **({"cameras": stats()} if (stats := getattr(self.camera, "stats", None)) else {}),
            },
        )


def _open_unverified(bus_factory: Callable[..., Any]) -> Any:
    """The bus without its open-time check of who answers, so the torque off is on the wire
    within a period of the control process's death, not after a ping per servo (they took
    over 100 ms against the simulated arm under load: its bus watchdog fired first)."""
    try:
        return bus_factory(verify=False)
    except TypeError:  # a factory without that option
        return bus_factory()

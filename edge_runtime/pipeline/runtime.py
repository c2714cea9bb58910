"""The runtime: wires camera, inference worker and control loop, and owns every exit path.

Threads: the camera's capture thread, the inference worker, and the control thread (real-time
settings applied to it alone). The calling thread only waits and handles SIGINT/SIGTERM. Any
thread's failure sets one stop event with a reason; whatever happens, `run` ends by stopping
the control thread and turning torque off on every motor (`MotorBus.close()`), then stopping
the worker and the camera.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from edge_runtime.clock import Clock, MonotonicClock
from edge_runtime.errors import EngineError
from edge_runtime.loop_summary import LoopSummary
from edge_runtime.pipeline.chunks import ChunkQueue
from edge_runtime.pipeline.control import ControlLoop
from edge_runtime.pipeline.inference import InferenceWorker
from edge_runtime.pipeline.observer import LoopObserver, ObserverFanout
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.safety import SafetyFilter, SafetyLimits
from edge_runtime.realtime import configure_realtime
from edge_runtime.scheduler import FixedRateScheduler
from edge_runtime.sensors.base import Camera
from edge_runtime.slot import LatestSlot
from firmware_bridge.base import JointState, MotorBus

log = logging.getLogger(__name__)


@dataclass
class RuntimeSettings:
    period_s: float
    limits: SafetyLimits
    stale_observation_s: float
    max_frame_age_s: float = 0.25
    max_tracking_error_rad: float = 0.5
    warmup_timeout_s: float = 120.0
    realtime: bool = True
    realtime_priority: int | None = 80


@dataclass
class RunResult:
    summary: LoopSummary
    stop_reason: str
    fault: str
    safety_counts: dict[str, int]
    inference_us: dict[str, float]
    latency_us: dict[str, float]
    chunks: dict[str, int]
    bus_errors: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.fault and not self.stop_reason.startswith("safety stop")


class Runtime:
    def __init__(
        self,
        bus: MotorBus,
        camera: Camera,
        make_policy: Callable[[], BundlePolicy],
        settings: RuntimeSettings,
        observers: list[LoopObserver] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.bus = bus
        self.camera = camera
        self.settings = settings
        self.clock = clock or MonotonicClock()
        self.observers = ObserverFanout(observers or [])
        self.stop = threading.Event()
        self._fault = ""
        self._fault_lock = threading.Lock()
        self.queue = ChunkQueue(len(bus.motor_ids))
        self.safety = SafetyFilter(settings.limits)
        self.joint_state: LatestSlot[JointState] = LatestSlot()
        self.worker = InferenceWorker(
            make_policy,
            camera,
            self.joint_state,
            self.queue,
            self.clock,
            self.observers,
            self.fault,
            settings.max_frame_age_s,
        )
        self.loop = ControlLoop(
            bus,
            camera,
            self.queue,
            self.safety,
            self.joint_state,
            self.observers,
            settings.stale_observation_s,
            self.stop,
            self.clock,
        )
        self.scheduler = FixedRateScheduler(settings.period_s, self.clock)
        self.stop_reason = ""

    def fault(self, where: str, exc: BaseException) -> None:
        """Any thread: record the first fault and stop the robot."""
        with self._fault_lock:
            if not self._fault:
                self._fault = f"{where}: {exc}"
                log.error("fault, stopping the robot: %s", self._fault, exc_info=exc)
        self.observers.on_event("fault", f"{where}: {exc}", self.clock.now_ns())
        self.stop.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_reason = self.stop_reason or f"signal {signal.Signals(signum).name}"
        self.stop.set()

    def run(self, duration_s: float | None = None) -> RunResult:
        handlers = self._install_signal_handlers()
        control: threading.Thread | None = None
        try:
            self.camera.on_fault = self.fault
            self.camera.start()
            self.worker.start()
            if not self.worker.ready.wait(self.settings.warmup_timeout_s):
                raise EngineError("the inference worker did not load the models in time")
            if self.stop.is_set():
                return self._result()  # the worker failed to load: torque was never enabled
            self.observers.on_start(list(map(str, self.bus.motor_ids)), self.settings.period_s)
            max_ticks = None if duration_s is None else round(duration_s / self.settings.period_s)
            control = threading.Thread(
                target=self._control_thread, args=(max_ticks,), name="control", daemon=True
            )
            control.start()
            while control.is_alive() and not self.stop.wait(0.1):
                pass
        finally:
            self.stop.set()
            if control is not None:
                control.join(timeout=2.0)
            self._shutdown()
            self._restore_signal_handlers(handlers)
        return self._result()

    def _control_thread(self, max_ticks: int | None) -> None:
        try:
            if self.settings.realtime:
                configure_realtime(priority=self.settings.realtime_priority)
            # Torque on (and the servos' bus watchdog armed) only now, one period before the
            # first goal write: enabling earlier lets the watchdog expire before tick 0.
            self.loop.start()
            self.scheduler.run(self.loop.step, max_ticks=max_ticks, stop=self.stop)
            if not self.stop.is_set():
                self.stop_reason = self.stop_reason or "duration reached"
        except BaseException as exc:
            self.fault("control thread failed", exc)
        finally:
            self.stop.set()

    def _shutdown(self) -> None:
        """Torque off first, then everything else; each step runs even if another failed."""
        try:
            self.bus.close()
        except Exception as exc:
            log.error("torque off reported a failure: %s", exc)
            self._fault = self._fault or f"torque off: {exc}"
        for name, action in (("inference worker", self.worker.stop), ("camera", self.camera.stop)):
            try:
                action()
            except Exception:
                log.exception("stopping the %s failed", name)
        self.observers.on_stop()

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _result(self) -> RunResult:
        queue = self.queue
        return RunResult(
            summary=self.scheduler.summary,
            stop_reason=self.loop.stop_reason
            or self.stop_reason
            or ("fault" if self._fault else ""),
            fault=self._fault,
            safety_counts=dict(self.safety.counts),
            inference_us=self.worker.inference_ns.percentiles_us(50, 99),
            latency_us=self.worker.latency_ns.percentiles_us(50, 99),
            chunks={
                "received": queue.chunks_received,
                "discarded": queue.chunks_discarded,
                "actions_dropped": queue.actions_dropped,
                "actions_blended": queue.actions_blended,
                "stale_frames_skipped": self.worker.stale_frames_skipped,
            },
            bus_errors=self.loop.bus_errors,
        )

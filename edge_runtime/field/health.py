"""Tell systemd the truth about the control process: READY once it has armed, pings while it ticks.

`ServiceWatchdog` is a `LoopObserver`, so it hears exactly what the runtime process hears from
the control process: one tick record per control period, forwarded by the runtime's main loop.
- READY=1 goes out with the first tick record. Every arming check has passed by then (bundle
  verified, calibration checked, bus opened once, models warm) and the control process has
  turned torque on and ticked once: "started" means "controlling the arm", nothing earlier.
- WATCHDOG=1 goes out only when the tick counter has advanced since the last ping, at most
  every half watchdog timeout. It is never driven by a timer of its own: if the control
  process hangs, or the runtime process stops forwarding its ticks, the pings stop, systemd
  kills the service after `WatchdogSec=`, and the servos' bus watchdogs stop the motors.
- STOPPING=1 when the run ends (after torque off), with the reason in STATUS.
The watchdog is only active after READY (systemd.service(5)): model warm-up is bounded by
`TimeoutStartSec=` instead.
"""

from __future__ import annotations

from edge_runtime.field.notify import SystemdNotifier
from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.pipeline.observer import LoopObserver, TickRecord


class ServiceWatchdog(LoopObserver):
    """READY at the first tick, WATCHDOG while the tick counter advances, STOPPING at the end."""

    def __init__(self, notifier: SystemdNotifier, clock: Clock | None = None) -> None:
        self.notifier = notifier
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.ready = False
        self.pings = 0
        self._newest_tick = -1
        self._pinged_tick = -1  # the tick counter at the last READY or WATCHDOG message
        self._pinged_ns = 0

    def on_start(self, joint_names: list[str], period_s: float) -> None:
        self.notifier.notify(f"STATUS=models warm; arming {len(joint_names)} joints")

    def on_tick(self, record: TickRecord) -> None:
        self._newest_tick = max(self._newest_tick, record.index)
        if not self.ready:
            self.ready = True
            self._sent(f"STATUS=armed: control loop running (tick {record.index})", "READY=1")
            return
        interval_ns = self.notifier.ping_interval_ns
        if interval_ns is None or not self.control_advanced():
            return
        if self.clock.now_ns() - self._pinged_ns >= interval_ns:
            self._sent("WATCHDOG=1")
            self.pings += 1

    def control_advanced(self) -> bool:
        """The health check: has the control process ticked since the last message?"""
        return self._newest_tick > self._pinged_tick

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        if kind in ("stop", "fault"):
            self.notifier.notify(f"STATUS={kind}: {detail}"[:200])

    def on_stop(self) -> None:
        self.notifier.notify("STOPPING=1", "STATUS=stopped, torque off")

    def _sent(self, *assignments: str) -> None:
        self.notifier.notify(*assignments)
        self._pinged_tick = self._newest_tick
        self._pinged_ns = self.clock.now_ns()

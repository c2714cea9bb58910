"""`edgerun run` as a robot in the field runs: refuse while latched, tell systemd, latch a stop.

Around `drive()`:
- before anything opens, a latched stop refuses to arm (`StopLatched`, exit 10), and the state
  directory must be writable: a stop that cannot be written down cannot be latched;
- `[model] bundle` is resolved once, through the `active` slot link, so a rollback while this
  process starts cannot mix two bundles' files;
- `ServiceWatchdog` tells systemd READY / WATCHDOG / STOPPING (`edge_runtime.field.health`);
- `_LatchOnStop` latches the moment the stop reaches the runtime process, before the report and
  the plot are written; after the run the latch is rewritten with the full reason and report.
`edgerun demo` does not come here: the simulated arm is rebuilt for every run and nobody stands
beside it, so a latch would only refuse the next demo. Its safety stops still exit 10.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from edge_runtime.config import RobotConfig
from edge_runtime.drive import DriveOptions, DriveOutcome, drive
from edge_runtime.errors import SafetyStop, StopLatched
from edge_runtime.field.health import ServiceWatchdog
from edge_runtime.field.latch import LatchedStop, StopLatch
from edge_runtime.field.notify import SystemdNotifier
from edge_runtime.field.slots import pin_bundle
from edge_runtime.field.state_dir import resolve_state_dir, writable_state_dir
from edge_runtime.pipeline.observer import LoopObserver

log = logging.getLogger(__name__)


def run_latched(config: RobotConfig, options: DriveOptions) -> DriveOutcome:
    """Drive the robot as the service does; a safety stop is latched on disk before returning."""
    notifier = SystemdNotifier.from_environment()
    latch = StopLatch(writable_state_dir(resolve_state_dir(config), "latching a safety stop"))
    try:
        latch.refuse_if_latched()
    except StopLatched as exc:
        notifier.notify(f"STATUS=refused: {exc}"[:400])
        raise
    config = pin_bundle(config)
    on_stop = _LatchOnStop(latch, config)
    observers = (*options.observers, ServiceWatchdog(notifier), on_stop)
    try:
        outcome = drive(config, replace(options, observers=observers))
    finally:
        notifier.close()
    result = outcome.result
    if isinstance(result.error(), SafetyStop) or on_stop.latched:
        reason = result.stop_reason if isinstance(result.error(), SafetyStop) else on_stop.reason
        latch.latch(on_stop.stop(reason, str(outcome.report_path)))
        log.error("safety stop latched in %s: %s", latch.path, reason)
    return outcome


class _LatchOnStop(LoopObserver):
    """Latches at the first safety stop event (the filter's, or the world model's)."""

    def __init__(self, latch: StopLatch, config: RobotConfig) -> None:
        self._latch = latch
        self._robot = config.name
        self._bundle = config.model.bundle
        self._lock = threading.Lock()
        self.latched = False
        self.reason = ""

    def stop(self, reason: str, report: str = "") -> LatchedStop:
        return LatchedStop(reason=reason, robot=self._robot, bundle=self._bundle, report=report)

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        if kind != "stop":
            return
        with self._lock:
            if self.latched:
                return
            self.latched = True
            self.reason = f"safety stop: {detail or 'the safety filter stopped the robot'}"
        try:
            self._latch.latch(self.stop(self.reason))
        except OSError:  # written again after the run; say so now, the robot is stopping
            log.exception("could not latch the safety stop yet; retrying after the run")

"""`edgerun status` and `edgerun ack`: what a person at the robot reads first, and signs.

`status` shows the latched safety stop (if any), the last acknowledgement and the bundle slots;
its exit code is 10 while a stop is latched, 0 otherwise, so scripts and OTA health checks can
ask too. `ack` clears the latch, logging who and why (edge_runtime.field.latch). Both find the
state directory the way `run` does: pass the robot TOML if it sets `[robot] state_dir`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_runtime.config import RobotConfig, load_config
from edge_runtime.errors import EXIT_LATCHED
from edge_runtime.field.latch import Acknowledgement, LatchedStop, StopLatch
from edge_runtime.field.slots import SLOTS, BundleSlots
from edge_runtime.field.state_dir import resolve_state_dir, writable_state_dir


@dataclass(frozen=True)
class FieldStatus:
    state_dir: Path
    latched: LatchedStop | None
    last_ack: Acknowledgement | None
    slots: BundleSlots

    @property
    def exit_code(self) -> int:
        return EXIT_LATCHED if self.latched else 0

    def lines(self) -> list[str]:
        out = [f"state directory: {self.state_dir}"]
        stop = self.latched
        if stop is None:
            out.append("safety stop: none latched; the robot may arm")
        else:
            out += [
                f"safety stop: LATCHED since {stop.stopped_at}: {stop.reason}",
                f"  robot {stop.robot or '?'}, bundle {stop.bundle or '?'}",
                f"  run report: {stop.report or '(not written)'}",
                "  after a person has looked: edgerun ack --by NAME --why TEXT",
            ]
        if self.last_ack is not None:
            ack = self.last_ack
            out.append(
                f"last ack: {ack.at} by {ack.by} ({ack.user}@{ack.host}): {ack.why} "
                f"[cleared: {ack.cleared.reason}]"
            )
        active = self.slots.active()
        for slot in SLOTS:
            info = self.slots.info(slot)
            if not self.slots.holds_bundle(slot):
                continue
            role = "active  " if slot == active else "previous"
            out.append(
                f"slot {slot} ({role}): {info.get('source', '?')}, deployed "
                f"{info.get('deployed_at', '?')}, signed by {info.get('signed_by') or 'nobody'}"
            )
        if active is None:
            out.append("bundle slots: none deployed (edgerun deploy BUNDLE --config ...)")
        return out


def field_status(config_path: str | None = None) -> FieldStatus:
    """The latch, the last ack and the slots of the robot `config_path` configures."""
    state_dir = resolve_state_dir(_config(config_path))
    latch = StopLatch(state_dir)
    acks = latch.acknowledgements()
    return FieldStatus(state_dir, latch.read(), acks[-1] if acks else None, BundleSlots(state_dir))


def acknowledge_stop(config_path: str | None, by: str, why: str) -> str:
    """Clear the latched stop (logged); returns the sentence to print."""
    state_dir = resolve_state_dir(_config(config_path))
    latch = StopLatch(state_dir)
    if latch.read() is not None:
        writable_state_dir(state_dir, "acknowledging the stop")
    ack = latch.acknowledge(by, why)
    if ack is None:
        return f"no safety stop is latched in {state_dir}; nothing to clear"
    return (
        f"cleared the safety stop of {ack.cleared.stopped_at} ({ack.cleared.reason}); logged in "
        f"{latch.log_path} as acknowledged by {ack.by}; the robot may arm again"
    )


def _config(path: str | None) -> RobotConfig | None:
    return load_config(path) if path else None

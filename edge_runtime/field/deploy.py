"""`edgerun deploy BUNDLE` and `edgerun rollback`: A/B bundle slots, switched only after checks.

deploy: stage the bundle beside the slots → verify hashes and signature with the robot's
trusted keys (and its joints) → build engines for this device → selftest with the staged
bundle, torque off → install it into the inactive slot and switch `active` to it. A failure
at any step discards the staged copy and leaves both slots and `active` as they were.
rollback: switch `active` back to the other slot, after checking its bundle still verifies
(a key may have been revoked since).

Neither restarts anything: the service runs whatever `active` points to the next time it
starts, so the caller (a person, or an OTA system's post-install hook; docs/fleet.md) stops the
service before a deploy (the selftest needs the motor bus) and starts it afterwards.
The engine build and golden parity come from the export package, passed in as `DeviceSteps`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.bundle.reader import Bundle
from edge_runtime.config import RobotConfig
from edge_runtime.engines import select_backend
from edge_runtime.errors import DeployError, EdgeRuntimeError, SelftestFailed
from edge_runtime.field.latch import utc_now
from edge_runtime.field.selftest import run_selftest
from edge_runtime.field.selftest_report import ParityCheck, SelftestReport
from edge_runtime.field.slots import BundleSlots
from edge_runtime.field.state_dir import resolve_state_dir, writable_state_dir
from edge_runtime.robot import check_bundle_matches, open_model_bundle

Echo = Callable[[str], None]
# Builds this device's engines for a verified bundle: (bundle, backend, engine cache, echo).
EngineBuilder = Callable[[Bundle, str, str, Echo], None]


@dataclass(frozen=True)
class DeviceSteps:
    """What deploy and selftest take from the export toolchain (export.field_steps)."""

    build_engines: EngineBuilder | None = None  # None: nothing to build (ONNX Runtime)
    golden_parity: ParityCheck | None = None  # None: parity is reported as skipped


@dataclass(frozen=True)
class DeployOutcome:
    slot: str  # now active ("" when the deploy was refused)
    previous: str  # the slot that was active before ("" on a first deploy)
    selftest: SelftestReport | None  # None when refused before the selftest
    notes: tuple[str, ...] = ()

    def error(self) -> EdgeRuntimeError | None:
        if self.slot:
            return None
        failures = "; ".join(self.selftest.failures) if self.selftest else "see above"
        return SelftestFailed(
            f"the bundle failed its selftest on this robot ({failures}); the active slot is "
            "unchanged"
        )


def deploy(
    config: RobotConfig,
    source: Path,
    steps: DeviceSteps,
    echo: Echo = print,
) -> DeployOutcome:
    """Stage, verify, build, selftest, switch; the active slot changes only at the end."""
    slots = BundleSlots(writable_state_dir(resolve_state_dir(config), "deploying a bundle"))
    with slots.locked("deploy"):
        previous = slots.active() or ""
        staged = slots.stage(Path(source))
        try:
            echo(f"staged {source} in {staged}; verifying")
            bundle = open_model_bundle(config, staged)
            check_bundle_matches(config, bundle)
            if steps.build_engines is not None:
                steps.build_engines(
                    bundle, select_backend(config.model.backend), config.model.engine_cache, echo
                )
            echo("selftest with the new bundle (torque off)")
            report = run_selftest(config, steps.golden_parity, bundle_path=staged)
            if not report.passed:
                slots.discard(staged)
                return DeployOutcome("", previous, report)
            info = {
                "source": str(Path(source).resolve()),
                "deployed_at": utc_now(),
                "signed_by": bundle.signed_by,
                "exporter": dict(bundle.manifest.exporter),
                "selftest": report.to_json(),
            }
            slot = slots.install(staged, info)
        except BaseException:
            slots.discard(staged)
            raise
    return DeployOutcome(slot, previous, report, _notes(config, slots))


def rollback(config: RobotConfig) -> DeployOutcome:
    """Make the other slot active again, if it holds a bundle that still verifies."""
    slots = BundleSlots(writable_state_dir(resolve_state_dir(config), "rolling back"))
    with slots.locked("rollback"):
        active, target = slots.active(), slots.previous()
        if active is None or target is None:
            raise DeployError(
                f"there is no previous bundle to roll back to in {slots.root} (a rollback needs "
                "two deploys); deploy the bundle you want with `edgerun deploy BUNDLE`"
            )
        try:
            check_bundle_matches(config, open_model_bundle(config, slots.path(target)))
        except EdgeRuntimeError as exc:
            raise DeployError(
                f"the previous bundle (slot {target}) no longer verifies: {exc}; the active slot "
                "is unchanged"
            ) from exc
        slots.switch(target)
    return DeployOutcome(target, active, None, _notes(config, slots))


def _notes(config: RobotConfig, slots: BundleSlots) -> tuple[str, ...]:
    """What a person must do next for the switch to take effect."""
    notes = ["restart the service to run it: sudo systemctl restart edge-runtime"]
    configured = config.resolve(config.model.bundle) if config.model.bundle else None
    if configured is None or configured.absolute() != slots.active_link.absolute():
        notes.append(
            f"{config.path.name} has [model] bundle = {config.model.bundle!r}, not the active "
            f'slot: set bundle = "{slots.active_link}" so the service runs what is deployed'
        )
    return tuple(notes)

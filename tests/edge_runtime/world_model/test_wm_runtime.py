"""The world model inside the runtime, on the simulated arm: frames one step apart, commands
from the control process, and a surprise stop that ends the run safely with its reason."""

from __future__ import annotations

from pathlib import Path

from sim_rig import Rig, policy_factory, settings
from wm_graphs import predictor_engine

from edge_runtime.pipeline.observer import LoopObserver
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.runtime import Runtime
from edge_runtime.sim.camera import SimCamera
from edge_runtime.world_model.agent import WorldModelAgent, WorldModelSetup
from edge_runtime.world_model.monitor import MonitorSettings, SurpriseMonitor


class Events(LoopObserver):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        self.seen.append((kind, detail))


def monitored(tmp_path: Path, stop_joints_rad: float) -> WorldModelSetup:
    def build(policy: BundlePolicy) -> WorldModelAgent:
        engine, spec = predictor_engine(tmp_path)  # on the inference thread, like the bundle's
        settings = MonitorSettings(
            latent_scale=1.0,
            debounce_steps=2,
            warn_latent=1e6,
            warn_joints_rad=stop_joints_rad / 2,
            stop_latent=1e6,
            stop_joints_rad=stop_joints_rad,
            step_s=0.1,
            gap_tolerance_s=0.03,
        )
        return WorldModelAgent(SurpriseMonitor(engine, spec, settings), None)

    return WorldModelSetup(build, step_s=0.1)


def test_runtime_monitor_compares_frames_one_step_apart(rig: Rig, tmp_path: Path) -> None:
    camera = SimCamera(rig.world, width=64, height=48, fps=30)
    runtime = Runtime(
        rig.bus_factory(),
        camera,
        policy_factory(rig.bundle_path),
        settings(rig.world),
        world_model=monitored(tmp_path, stop_joints_rad=10.0),
    )
    result = runtime.run(duration_s=2.0)
    assert result.stop_reason == "duration reached"
    monitor = result.extra["world_model"]["monitor"]
    assert monitor["compared"] >= 5  # ~18 one-step pairs in 2 s; a loaded machine skips some
    assert rig.torque() == [False] * 4


def test_runtime_surprise_is_a_safety_stop_with_torque_off(rig: Rig, tmp_path: Path) -> None:
    camera = SimCamera(rig.world, width=64, height=48, fps=30)
    events = Events()
    runtime = Runtime(
        rig.bus_factory(),
        camera,
        policy_factory(rig.bundle_path),
        settings(rig.world),
        [events],
        world_model=monitored(tmp_path, stop_joints_rad=1e-9),  # nothing is that predictable
    )
    result = runtime.run(duration_s=20.0)
    assert result.stop_reason.startswith("safety stop: world_model_surprise: joint residual")
    assert type(result.error()).__name__ == "SafetyStop"
    assert any(kind == "world_model_surprise" for kind, _ in events.seen)
    assert rig.torque() == [False] * 4

"""The runtime end to end on the simulated arm, and torque-off after a fault in each thread.

Everything is real but the devices: MuJoCo physics, the Dynamixel driver talking to simulated
servos on a pty, the camera rendered on the CPU, ONNX Runtime running the bundle. Faults are
injected by subclassing a port implementation in the test, never by hooks in the runtime.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bundle import open_bundle
from edge_runtime.loop.safety import SafetyLimits
from edge_runtime.loop.settings import RuntimeSettings
from edge_runtime.pipeline.observer import LoopObserver, TickRecord
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.runtime import Runtime
from firmware_bridge.dynamixel.bus import DynamixelBus

os.environ.setdefault("MUJOCO_GL", "osmesa")
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

from runtime_bundles import write_tiny_bundle

from edge_runtime.sim.camera import SimCamera
from edge_runtime.sim.plant import MujocoPlant
from edge_runtime.sim.world import JOINT_NAMES, SimWorld
from firmware_bridge.sim.servo_device import SimServoChain

IDS = [1, 2, 3, 4]
PERIOD_S = 0.01


@dataclass
class Rig:
    world: SimWorld
    chain: SimServoChain
    port: str
    bundle_path: Path

    def bus_factory(self, cls: type[DynamixelBus] = DynamixelBus) -> functools.partial:
        # A generous turnaround: the simulated servos answer from this busy test process.
        return functools.partial(cls, self.port, IDS, period_s=PERIOD_S, latency_s=0.02)

    def torque(self) -> list[bool]:
        return [self.chain.servo(i).torque_on for i in IDS]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    world = SimWorld(seed=1, realtime=True)
    world.start()
    chain = SimServoChain(IDS, plant=MujocoPlant(world, JOINT_NAMES), link=tmp_path / "servos")
    chain.start()
    bundle = write_tiny_bundle(tmp_path / "bundle", JOINT_NAMES)
    try:
        yield Rig(world, chain, str(tmp_path / "servos"), bundle)
    finally:
        chain.stop()
        world.stop()


def settings(world: SimWorld, hold_timeout_s: float = 5.0) -> RuntimeSettings:
    limits = world.joint_limits()
    return RuntimeSettings(
        period_s=PERIOD_S,
        limits=SafetyLimits.from_joints(
            list(limits[:, 0]), list(limits[:, 1]), [1.0] * 4, PERIOD_S, hold_timeout_s
        ),
        stale_observation_s=0.5,
        joint_names=list(JOINT_NAMES),
        chunk_length=4,
        max_frame_age_s=0.5,
        realtime=False,
    )


def policy_factory(bundle_path: Path, cls: type[BundlePolicy] = BundlePolicy):
    bundle = open_bundle(bundle_path, development_mode=True)
    return lambda: cls(bundle, backend="onnxruntime")


class TickCounter(LoopObserver):
    def __init__(self) -> None:
        self.ticks: list[TickRecord] = []

    def on_tick(self, record: TickRecord) -> None:
        self.ticks.append(record)


def test_closed_loop_moves_the_arm_and_ends_with_torque_off(rig: Rig) -> None:
    camera = SimCamera(rig.world, width=64, height=48, fps=30)
    start = rig.world.joint_positions().copy()
    counter = TickCounter()
    runtime = Runtime(
        rig.bus_factory(), camera, policy_factory(rig.bundle_path), settings(rig.world), [counter]
    )
    result = runtime.run(duration_s=2.0)
    assert result.fault == ""
    assert result.stop_reason == "duration reached"
    assert result.summary.ticks == 200
    assert result.chunks["received"] > 5
    run_ticks = [t for t in counter.ticks if t.mode == "run"]
    assert len(run_ticks) > 50
    # The test policy steps every joint upwards: the simulated arm must have followed.
    moved = rig.world.joint_positions() - start
    assert np.all(moved > 0.05), moved
    assert rig.torque() == [False] * 4


class CameraThatDies(SimCamera):
    def _capture(self):
        if self.frames_captured >= 10:
            raise RuntimeError("simulated camera driver crash")
        return super()._capture()


class PolicyThatDies(BundlePolicy):
    calls = 0

    def act(self, frame, joint_positions):
        PolicyThatDies.calls += 1
        if PolicyThatDies.calls > 5:
            raise RuntimeError("simulated engine failure")
        return super().act(frame, joint_positions)


class BusThatDies(DynamixelBus):
    reads = 0

    def read_state(self):
        BusThatDies.reads += 1
        if BusThatDies.reads > 50:
            raise RuntimeError("simulated bug in the control step")
        return super().read_state()


def test_exception_in_camera_thread_stops_with_torque_off(rig: Rig) -> None:
    camera = CameraThatDies(rig.world, width=64, height=48, fps=30)
    runtime = Runtime(
        rig.bus_factory(), camera, policy_factory(rig.bundle_path), settings(rig.world)
    )
    result = runtime.run(duration_s=20.0)
    assert "capture thread failed" in result.fault
    assert result.summary.ticks < 2000
    assert rig.torque() == [False] * 4


def test_exception_in_inference_thread_stops_with_torque_off(rig: Rig) -> None:
    camera = SimCamera(rig.world, width=64, height=48, fps=30)
    factory = policy_factory(rig.bundle_path, PolicyThatDies)
    result = Runtime(rig.bus_factory(), camera, factory, settings(rig.world)).run(duration_s=20.0)
    assert "inference worker failed: simulated engine failure" in result.fault
    assert rig.torque() == [False] * 4


def test_exception_in_control_process_stops_with_torque_off(rig: Rig) -> None:
    camera = SimCamera(rig.world, width=64, height=48, fps=30)
    factory = rig.bus_factory(BusThatDies)
    result = Runtime(factory, camera, policy_factory(rig.bundle_path), settings(rig.world)).run(20)
    assert "control process failed: simulated bug" in result.fault
    assert result.summary.ticks < 2000
    assert rig.torque() == [False] * 4


def test_camera_going_stale_holds_then_stops_safely(rig: Rig) -> None:
    class CameraThatFreezes(SimCamera):
        def _capture(self):
            if self.frames_captured >= 15:
                self._stop.wait(0.05)
                return None  # the camera stops delivering frames, without an error
            return super()._capture()

    camera = CameraThatFreezes(rig.world, width=64, height=48, fps=30)
    runtime = Runtime(
        rig.bus_factory(),
        camera,
        policy_factory(rig.bundle_path),
        settings(rig.world, hold_timeout_s=0.3),
    )
    result = runtime.run(duration_s=20.0)
    # Whichever the loop notices first: the plan running out or the frame age limit.
    assert re.match(r"safety stop: (stale_observation|empty_queue) for \d+ ms", result.stop_reason)
    assert result.safety_counts["hold"] >= 1
    assert result.safety_counts["stop"] == 1
    assert not result.ok
    assert rig.torque() == [False] * 4

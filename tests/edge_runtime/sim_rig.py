"""The simulated arm for runtime tests: MuJoCo in real time, its servos on a pty, a bundle.

A module of its own (not conftest) so tests in several rooms import the same rig.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge_runtime.bundle import open_bundle
from edge_runtime.loop.safety import SafetyLimits
from edge_runtime.loop.settings import RuntimeSettings
from edge_runtime.pipeline.policy import BundlePolicy
from firmware_bridge.dynamixel.bus import DynamixelBus

os.environ.setdefault("MUJOCO_GL", "osmesa")
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

from runtime_bundles import write_tiny_bundle

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


def policy_factory(bundle_path: Path, cls: type[BundlePolicy] = BundlePolicy, **kwargs: object):
    bundle = open_bundle(bundle_path, development_mode=True)
    return lambda: cls(bundle, backend="onnxruntime", **kwargs)

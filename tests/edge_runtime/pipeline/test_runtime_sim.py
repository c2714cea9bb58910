"""The runtime end to end on the simulated arm, and torque-off after a fault in each thread.

Everything is real but the devices: MuJoCo physics, the Dynamixel driver talking to simulated
servos on a pty, the camera rendered on the CPU, ONNX Runtime running the bundle. Faults are
injected by subclassing a port implementation in the test, never by hooks in the runtime.
"""

from __future__ import annotations

import re

import numpy as np
from sim_rig import Rig, policy_factory, settings

from edge_runtime.pipeline.observer import LoopObserver, TickRecord
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.runtime import Runtime
from edge_runtime.sim.camera import SimCamera
from firmware_bridge.dynamixel.bus import DynamixelBus


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
    memory = result.extra["memory"]  # the control process reported its own
    assert 0 < memory["control_rss_mb"] <= memory["control_peak_rss_mb"]
    assert 0 < memory["runtime_rss_mb"] <= memory["runtime_peak_rss_mb"]
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

    def act_with_values(self, frame, joint_positions):
        PolicyThatDies.calls += 1
        if PolicyThatDies.calls > 5:
            raise RuntimeError("simulated engine failure")
        return super().act_with_values(frame, joint_positions)


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

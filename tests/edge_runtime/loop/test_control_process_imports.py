"""The control process imports only the loop, ipc, its motor driver and the safety filter.

Its memory is locked and shares the Jetson's RAM with the GPU (docs/perf/memory.md). What it
imports is decided in three places, all reproduced here in a fresh interpreter: spawn
re-imports the command's `__main__` (`edgerun` -> `edge_runtime.cli.main`), unpickling the
target and its `ControlSpec` imports every class's module, and opening the bus imports the
driver for the config's motor type.
"""

from __future__ import annotations

import subprocess
import sys
from multiprocessing.reduction import ForkingPickler

import pytest

from edge_runtime.drive import demo_config
from edge_runtime.loop.bus_spec import MOTOR_BUSES
from edge_runtime.loop.clock import MonotonicClock
from edge_runtime.loop.control_process import ControlSpec, control_main
from edge_runtime.loop.safety import SafetyLimits
from edge_runtime.loop.settings import RuntimeSettings
from edge_runtime.robot import motor_bus_spec

DENIED = (
    "onnxruntime", "onnx", "mujoco", "cv2", "torch", "scipy", "matplotlib", "PIL", "rich",
    "cryptography", "pyrealsense2", "tensorrt", "pycuda", "importlib.metadata",
    "edge_runtime.robot", "edge_runtime.config", "edge_runtime.bundle", "edge_runtime.engines",
    "edge_runtime.pipeline.runtime", "edge_runtime.pipeline.inference",
    "edge_runtime.pipeline.policy", "edge_runtime.sim", "edge_runtime.world_model",
    "edge_runtime.recording", "edge_runtime.field", "export", "calibration",
)  # fmt: skip

CHILD = """
import sys, pickle, importlib
import edge_runtime.cli.main  # spawn re-imports `edgerun`'s __main__ as __mp_main__
target, spec = pickle.loads(sys.stdin.buffer.read())
entry = {drivers!r}[spec.bus_factory.motor_type]
importlib.import_module(entry[0])  # what opening the bus imports
print("\\n".join(sorted(sys.modules)))
"""


def control_spec(motors: str) -> ControlSpec:
    config = demo_config(motors)
    limits = SafetyLimits.from_joints(
        [j.min_rad for j in config.joints], [j.max_rad for j in config.joints],
        [j.max_velocity_rad_s for j in config.joints], config.period_s, 0.5,
    )  # fmt: skip
    settings = RuntimeSettings(
        period_s=config.period_s, limits=limits, stale_observation_s=0.1,
        joint_names=tuple(j.name for j in config.joints), chunk_length=8,
    )  # fmt: skip
    bus = motor_bus_spec(config, "/dev/null", None)  # what drive() passes to the Runtime
    return ControlSpec(bus_factory=bus, settings=settings, max_ticks=1, clock=MonotonicClock())


def control_modules(spec: ControlSpec) -> set[str]:
    payload = bytes(ForkingPickler.dumps((control_main, spec)))
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(drivers=MOTOR_BUSES)],
        input=payload, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    return set(out.stdout.decode().split())


@pytest.mark.parametrize("motors", sorted(MOTOR_BUSES))
def test_the_control_process_imports_no_heavy_module(motors: str) -> None:
    modules = control_modules(control_spec(motors))
    assert "edge_runtime.loop.control_process" in modules
    assert MOTOR_BUSES[motors][0] in modules
    heavy = sorted(m for m in modules if any(m == d or m.startswith(d + ".") for d in DENIED))
    assert heavy == [], f"the control process imports {heavy}: see docs/perf/memory.md"

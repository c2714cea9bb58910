"""Checks of what this machine can and cannot do, run before a field engineer finds out.

Each check returns (ok, detail); `run_checks` never raises: a check that fails to run is
reported as not ok with the reason, so one broken library cannot hide what the others say.
Only Python and ONNX Runtime are essential; the rest (TensorRT, a camera, real-time
scheduling, the simulator, and the robot computer's lines from `edge_runtime.field.
device_checks`: Jetson, GPU stack, power and clocks, groups, udev rules, RT limits) depend on
what the machine is for.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.field import device_checks
from edge_runtime.field.device_checks import ftdi_latency_ms

ESSENTIAL = ("python", "onnxruntime")  # without these nothing runs


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: what was checked, whether it is usable, and what was found."""

    name: str
    ok: bool
    detail: str

    @property
    def essential(self) -> bool:
        return self.name in ESSENTIAL


def _module_version(name: str) -> str:
    if importlib.util.find_spec(name) is None:
        return ""
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # e.g. pyrealsense2 without libusb
        return f"installed but fails to import: {exc}"
    return str(getattr(module, "__version__", "installed"))


def _check_python() -> tuple[bool, str]:
    ok = sys.version_info >= (3, 10)
    return ok, f"{platform.python_version()} ({sys.executable})"


def _check_onnxruntime() -> tuple[bool, str]:
    version = _module_version("onnxruntime")
    if not version:
        return False, "not installed: pip install onnxruntime"
    import onnxruntime

    return True, f"{version}, providers {', '.join(onnxruntime.get_available_providers())}"


def _check_tensorrt() -> tuple[bool, str]:
    trt, cuda = _module_version("tensorrt"), _module_version("pycuda")
    if trt and cuda:
        return True, f"TensorRT {trt}, pycuda {cuda}"
    missing = [n for n, v in (("tensorrt", trt), ("pycuda", cuda)) if not v]
    return False, f"{', '.join(missing)} missing (needed on a Jetson only; ONNX Runtime is used)"


def _check_realsense() -> tuple[bool, str]:
    version = _module_version("pyrealsense2")
    if not version:
        return False, "pyrealsense2 not installed: pip install edge-runtime[camera]"
    if "fails" in version:
        return False, f"{version}; install Debian's libusb-1.0-0"
    import pyrealsense2 as rs

    devices = [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]
    return True, f"pyrealsense2 {version}; cameras: {', '.join(devices) or 'none connected'}"


def _check_serial() -> tuple[bool, str]:
    ports = sorted(str(p) for pattern in ("ttyUSB*", "ttyACM*") for p in Path("/dev").glob(pattern))
    notes = []
    for port in ports:
        latency_ms = ftdi_latency_ms(port)
        if latency_ms not in (None, 1):
            notes.append(f"{port} latency_timer={latency_ms} ms (install tools/udev)")
    text = ", ".join(ports) or "no USB serial adapters connected"
    return True, text + (f"; {'; '.join(notes)}" if notes else "")


def _check_realtime() -> tuple[bool, str]:
    try:
        param = os.sched_param(os.sched_get_priority_min(os.SCHED_FIFO))
        os.sched_setscheduler(0, os.SCHED_FIFO, param)
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except (OSError, AttributeError) as exc:
        return False, f"SCHED_FIFO not permitted ({exc}); raise LimitRTPRIO (see tools/systemd)"
    return True, "SCHED_FIFO permitted"


def _check_mujoco() -> tuple[bool, str]:
    version = _module_version("mujoco")
    if not version:
        return False, "not installed (needed for the simulator): pip install edge-runtime[sim]"
    return True, f"mujoco {version}, MUJOCO_GL={os.environ.get('MUJOCO_GL', 'unset')}"


CHECKS: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
    ("python", _check_python),
    ("onnxruntime", _check_onnxruntime),
    ("tensorrt", _check_tensorrt),
    ("realsense", _check_realsense),
    ("serial", _check_serial),
    ("real-time", _check_realtime),
    ("simulator", _check_mujoco),
    ("jetson", device_checks.check_jetson),
    ("gpu stack", device_checks.check_gpu_stack),
    ("power, clocks", device_checks.check_power),
    ("groups", device_checks.check_groups),
    ("udev rules", device_checks.check_udev_rules),
    ("rt limits", device_checks.check_rt_limits),
]


def run_checks() -> list[CheckResult]:
    """Every check in `CHECKS` order; a check that raises is a failed check, not an error."""
    results = []
    for name, check in CHECKS:
        try:
            ok, detail = check()
        except Exception as exc:
            ok, detail = False, f"check failed: {exc}"
        results.append(CheckResult(name, ok, detail))
    return results

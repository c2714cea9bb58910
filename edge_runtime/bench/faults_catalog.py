"""The faults of `edgerun bench faults`: how each is injected and when it counts as detected.

Every fault goes through the real driver and processes: the simulated servos and camera are
the devices that fail (`edge_runtime.sim.rig_device`), the runtime's processes get real
signals, the recorder a really full disk. Detection, per fault:
- "runtime": the runtime's own first stop or fault event after the injection (the tick whose
  safety filter decided to stop, or the moment a thread reported a fault);
- "injection": the injection itself, where the runtime has nothing to notice first (a signal
  is delivered at once; a killed runtime's control process gets SIGTERM from the kernel).
  A killed control process counts from the moment the runtime noticed (its sentinel woke
  it); the time from the kill is reported beside it.
`expected` lists the outcomes a correct runtime may show (both, where it depends on timing:
a 0.5 s camera stall against a 0.5 s hold timeout).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.bench.faults_env import DiskFull, WallClock
from edge_runtime.bench.process_tree import find_child

SURVIVED, STOPPED = "survived", "stopped safely"
CORRUPTION_RATE = 1e-3  # per byte, both directions
STALL_S = 0.5
OVERLOAD = 0x20  # Hardware Error Status bit 5
WALL_STEP_S = 3600.0


@dataclass
class Injection:
    """What an injector may touch for one run."""

    rig: Any  # SimRig
    target_pid: int
    send: Callable[[tuple[Any, ...]], None]  # a command to the runtime under test
    record_dir: Path
    rng: random.Random
    ids: list[int]
    disk: DiskFull | None = None
    wallclock: WallClock | None = None


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    inject: Callable[[Injection], int]  # returns when it took effect (monotonic ns)
    detection: str  # "runtime" | "injection"
    expected: tuple[str, ...]
    needs: str = ""  # "disk" | "wallclock": prepared before the run
    restarts_rig: bool = False  # a killed reader may hold the camera slot's lock


def _rig(kind: str, **params: Any) -> Callable[[Injection], int]:
    return lambda inj: inj.rig.inject(kind, **params)


def _corrupt(inj: Injection) -> int:
    return inj.rig.inject("corrupt", rate=CORRUPTION_RATE, seed=inj.rng.randrange(2**31))


def _silence(inj: Injection) -> int:
    return inj.rig.inject("silence", ids=[inj.rng.choice(inj.ids)])


def _overload(inj: Injection) -> int:
    return inj.rig.inject("hardware_error", id=inj.rng.choice(inj.ids), bits=OVERLOAD)


def _model(mode: str) -> Callable[[Injection], int]:
    def inject(inj: Injection) -> int:
        inj.send(("model", mode))  # the runtime reports when the model first misbehaved
        return time.monotonic_ns()

    return inject


def _signal(signum: int, control: bool = False) -> Callable[[Injection], int]:
    def inject(inj: Injection) -> int:
        pid = find_child(inj.target_pid, "spawn_main") if control else inj.target_pid
        if pid is None:
            raise OSError("the control process is not running")
        now = time.monotonic_ns()
        os.kill(pid, signum)
        return now

    return inject


def _disk_full(inj: Injection) -> int:
    assert inj.disk is not None
    now = time.monotonic_ns()
    inj.disk.fill(inj.target_pid, inj.record_dir)
    return now


def _wall_step(inj: Injection) -> int:
    """Forward an hour, then half a second later back two: both directions in one run."""
    assert inj.wallclock is not None
    now = time.monotonic_ns()
    inj.wallclock.step(WALL_STEP_S)
    time.sleep(0.5)
    inj.wallclock.step(-WALL_STEP_S)
    return now


FAULTS = (
    Fault("serial_unplug", "the servos' serial port vanishes", _rig("unplug"), "runtime",
          (STOPPED,)),
    Fault("byte_corruption", f"{CORRUPTION_RATE:g} of bytes flipped, both directions",
          _corrupt, "runtime", (SURVIVED,)),
    Fault("servo_silent", "one servo hears and answers nothing", _silence, "runtime",
          (STOPPED,)),
    Fault("servo_overload", "one servo's hardware-error bit (overload): it drops torque",
          _overload, "runtime", (STOPPED,)),
    Fault("camera_stall", f"no camera frame for {STALL_S:g} s", _rig("camera_stall",
          seconds=STALL_S), "runtime", (SURVIVED, STOPPED)),
    Fault("camera_gone", "no camera frame any more", _rig("camera_gone"), "runtime",
          (STOPPED,)),
    Fault("inference_overrun", "every inference takes 3 control periods", _model("overrun"),
          "runtime", (SURVIVED, STOPPED)),
    Fault("inference_exception", "the model raises", _model("exception"), "runtime",
          (STOPPED,)),
    Fault("nan_actions", "the model answers NaN and inf", _model("nan"), "runtime",
          (STOPPED,)),
    Fault("sigterm", "SIGTERM to the runtime process", _signal(signal.SIGTERM),
          "injection", (STOPPED,)),
    Fault("sigkill_runtime", "SIGKILL of the runtime process", _signal(signal.SIGKILL),
          "injection", (STOPPED,), restarts_rig=True),
    Fault("sigkill_control", "SIGKILL of the control process",
          _signal(signal.SIGKILL, control=True), "runtime", (STOPPED,)),
    Fault("disk_full", "the disk under the recording fills up", _disk_full, "runtime",
          (SURVIVED,), needs="disk"),
    Fault("wall_clock_step", "the wall clock jumps +1 h, then -2 h (NTP)", _wall_step,
          "runtime", (SURVIVED,), needs="wallclock"),
)  # fmt: skip
FAULT_NAMES = tuple(f.name for f in FAULTS)


def fault_named(name: str) -> Fault:
    return next(f for f in FAULTS if f.name == name)

"""Joint zero offsets and limits, measured on the robot's own motors, and their verification.

The engineer puts every joint on its zero mark (one reading), then sweeps each joint through
its safe range by hand with torque off (sampled continuously). Offsets are kept host-side:
the runtime subtracts them from readings and adds them to goals, so nothing in the servos'
EEPROM changes and a wrong calibration is undone by deleting a file. Limits are the swept
range shrunk by a margin, in the calibrated frame. The scripted path reads the same numbers
from a poses file (and the zero from the bus when the robot sits in a jig):

    motor_ids = [1, 2, 3, 4]
    zero_rad = [0.01, -0.02, 0.0, 0.03]      # optional: omitted = read from the bus now
    min_rad = [-2.5, -1.5, -0.3, -1.9]       # raw readings at each joint's lower stop
    max_rad = [2.5, 1.5, 2.5, 2.1]           # raw readings at each joint's upper stop
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calibration.motion import Mover
from edge_runtime.calibration_artifacts import JOINTS, Device, build_document
from edge_runtime.errors import CalibrationError
from edge_runtime.fields import Section, load_toml
from firmware_bridge.base import MotorBus

MIN_RANGE_RAD = 0.2


@dataclass(frozen=True)
class JointReadings:
    """Raw readings (radians as the bus reports them), motor order."""

    motor_ids: list[int]
    zero_rad: np.ndarray | None
    min_rad: np.ndarray
    max_rad: np.ndarray


def read_poses_file(path: Path) -> JointReadings:
    where = str(path)
    data = load_toml(path, CalibrationError, "poses file", "pass --poses with a TOML file")
    sec = Section({"poses": data}, "poses", where, label="poses file", error=CalibrationError)
    ids_raw = sec._get("motor_ids", None)
    if (
        not isinstance(ids_raw, list)
        or not ids_raw
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids_raw)
    ):
        raise CalibrationError(f"{where}: motor_ids must be a list of motor ids, e.g. [1, 2, 3]")
    count = len(ids_raw)
    zero = sec.numbers("zero_rad", length=count, default=None) if "zero_rad" in data else None
    readings = JointReadings(
        motor_ids=list(ids_raw),
        zero_rad=None if zero is None else np.array(zero),
        min_rad=np.array(sec.numbers("min_rad", length=count)),
        max_rad=np.array(sec.numbers("max_rad", length=count)),
    )
    sec.done()
    return readings


class RangeRecorder:
    """Samples the bus in a thread while the engineer sweeps the joints by hand."""

    def __init__(self, bus: MotorBus, period_s: float = 0.02) -> None:
        self.bus = bus
        self.period_s = period_s
        count = len(bus.motor_ids)
        self.low = np.full(count, np.inf)
        self.high = np.full(count, -np.inf)
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def sample(self) -> None:
        state = self.bus.read_state()
        if state.ok:
            with self._lock:
                self.low = np.minimum(self.low, state.positions_rad)
                self.high = np.maximum(self.high, state.positions_rad)
                self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self.sample()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="joint-range", daemon=True)
        self._thread.start()

    def stop(self) -> tuple[np.ndarray, np.ndarray]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            if self.samples == 0:
                raise CalibrationError("no joint reading arrived while sweeping; check the bus")
            return self.low.copy(), self.high.copy()


def compute_limits(readings: JointReadings, margin_rad: float = 0.05) -> list[dict[str, Any]]:
    """Per motor: offset = zero reading; limits = swept range minus the zero, shrunk by margin."""
    if readings.zero_rad is None:
        raise CalibrationError("no zero reading; put the joints on their marks and read them")
    entries = []
    for k, motor in enumerate(readings.motor_ids):
        zero = float(readings.zero_rad[k])
        low = float(readings.min_rad[k]) - zero + margin_rad
        high = float(readings.max_rad[k]) - zero - margin_rad
        if not high - low >= MIN_RANGE_RAD:
            raise CalibrationError(
                f"motor {motor} moved through only {readings.max_rad[k] - readings.min_rad[k]:.2f} "
                "rad; sweep it through its full safe range (or fix min_rad/max_rad) and retry"
            )
        if not low <= 0.0 <= high:
            raise CalibrationError(
                f"motor {motor}'s zero mark ({zero:.3f} rad) lies outside its swept range "
                f"[{readings.min_rad[k]:.3f}, {readings.max_rad[k]:.3f}]; redo the zero reading"
            )
        entries.append({"id": motor, "zero_offset_rad": zero, "min_rad": low, "max_rad": high})
    return entries


def verify_joints(
    mover: Mover, entries: list[dict[str, Any]], fractions: tuple[float, ...] = (0.0, 0.25, -0.25)
) -> dict[str, Any]:
    """Drive to calibrated zero and to fractions of each range; check the read-back.

    A fraction f > 0 goes to f x max_rad, f < 0 to |f| x min_rad; the robot must be clear.
    """
    low = np.array([e["min_rad"] for e in entries])
    high = np.array([e["max_rad"] for e in entries])
    errors = []
    for fraction in fractions:
        goal = fraction * high if fraction >= 0 else -fraction * low
        reached = mover.move_to(goal)
        errors.append(float(np.max(np.abs(reached - goal))))
    mover.move_to(np.zeros(len(entries)))
    return {"verified": True, "verify_poses": len(fractions), "verify_max_error_rad": max(errors)}


def joints_document(
    entries: list[dict[str, Any]], margin_rad: float, verify: dict[str, Any] | None
) -> dict[str, Any]:
    quality: dict[str, Any] = {"verified": False, "margin_rad": margin_rad}
    quality.update(verify or {})
    ids = tuple(int(e["id"]) for e in entries)
    data = {"offsets_applied": "host", "joints": entries}
    return build_document(JOINTS.name, JOINTS.version, Device(motor_ids=ids), quality, data)

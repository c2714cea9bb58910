"""The `MotorBus` port: what the control loop needs from any chain of motors.

Real implementations (Dynamixel Protocol 2.0, the custom MCU link) and their twins (the same
drivers talking to simulated devices on a pty) all implement this. Following python-can's
`BusABC`, public methods own validation; implementations fill the abstract hooks.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field

import numpy as np

_FLOAT64 = np.dtype(np.float64)


@dataclass(frozen=True)
class JointState:
    """One read of every motor, in SI units, ordered like the bus's `motor_ids`.

    A motor that did not answer has NaN in its slots and an entry in `errors`, so one missing
    servo never hides the others.
    """

    positions_rad: np.ndarray
    velocities_rad_s: np.ndarray
    currents_a: np.ndarray
    stamp_ns: int
    errors: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        # Python floats, not a numpy ufunc: this runs every control tick, and a ufunc's
        # dispatch costs more than 12 isfinite calls on a cold cache (docs/perf/motors.md).
        return not self.errors and all(map(math.isfinite, self.positions_rad.tolist()))


class MotorBus(abc.ABC):
    """A chain of position-controlled motors addressed by id.

    Context manager; `close()` is idempotent and always safe to call from `finally`, and it
    turns torque off first. `disable()` must continue past motors that fail and raise only at
    the end, naming them, so no motor is left powered because another one was unplugged.
    """

    # True when `request_state()` sends the read's request and `read_state()` then collects
    # its answer, so `MultiBus` can have several buses' answers on their wires at once from
    # one thread; otherwise `request_state()` does nothing and `read_state()` does it all.
    splits_reads = False

    def __init__(self, motor_ids: list[int]) -> None:
        if not motor_ids:
            raise ValueError("a motor bus needs at least one motor id")
        if len(set(motor_ids)) != len(motor_ids):
            raise ValueError(f"motor ids must be unique, got {motor_ids}")
        self.motor_ids = list(motor_ids)
        self._closed = False

    @abc.abstractmethod
    def read_state(self) -> JointState:
        """Read positions, velocities and currents of every motor in one exchange."""

    def request_state(self) -> None:
        """Send the next `read_state`'s request now, when the bus `splits_reads`; nothing else
        may be sent on the bus before that `read_state`."""
        return None  # a bus that does not split reads does everything in read_state

    def write_goal(self, positions_rad: np.ndarray) -> None:
        """Send goal positions (radians) to every motor in one exchange."""
        positions = positions_rad
        if type(positions) is not np.ndarray or positions.dtype is not _FLOAT64:
            positions = np.asarray(positions_rad, dtype=np.float64)
        if positions.shape != (len(self.motor_ids),):
            raise ValueError(
                f"write_goal expects {len(self.motor_ids)} positions, got shape {positions.shape}"
            )
        if not all(map(math.isfinite, positions.tolist())):  # see JointState.ok
            raise ValueError(f"write_goal refuses non-finite positions {positions.tolist()}")
        self._write_goal(positions)

    @abc.abstractmethod
    def _write_goal(self, positions_rad: np.ndarray) -> None:
        """Implementation hook: positions are validated, finite, one per motor."""

    @abc.abstractmethod
    def enable(self) -> None:
        """Torque on (and arm device-side watchdogs)."""

    @abc.abstractmethod
    def disable(self) -> None:
        """Torque off on every motor, continuing past motors that fail."""

    def emergency_stop(self) -> bool:
        """Latch the device's own stop, before torque off, when a run ends in a safety stop.

        Never raises; True if the device confirmed. Devices without an e-stop of their own
        (Dynamixel servos: torque off is all there is) return False.
        """
        return False

    def clear_device_stop(self) -> str:
        """Clear a stop the device latched in an earlier run, so this run may arm.

        Returns what was cleared ("" for nothing). The runtime calls it only when its own gate
        has opened (a latched safety stop needs `edgerun ack` before `run` gets this far).
        """
        return ""

    def close(self) -> None:
        """Torque off, then release the port. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.disable()
        finally:
            self._close()

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the port. Called once."""

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> MotorBus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

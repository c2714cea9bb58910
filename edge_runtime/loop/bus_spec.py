"""`MotorBusSpec`: how the control process opens its motor bus, as plain picklable values.

The control process is started with multiprocessing's spawn: its arguments are pickled, and
unpickling imports every module their classes live in. A `functools.partial` over
`edge_runtime.robot.open_motor_bus` and the `RobotConfig` dragged in the robot module's
imports (bundle reader, signature checks with cryptography, config parsing) — ~10 MB of
memory the control process then locked (docs/perf/memory.md). This spec holds only numbers,
strings and the joint calibration, and imports the driver for its motor type when called.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from edge_runtime.registry import load_class

if TYPE_CHECKING:
    from edge_runtime.calibration_artifacts.schemas import JointCalibration
    from firmware_bridge.base import MotorBus

MOTOR_BUSES = {
    "dynamixel": ("firmware_bridge.dynamixel.bus", "DynamixelBus", ""),
    "mcu": ("firmware_bridge.mcu.bus", "McuBus", ""),
}


@dataclass(frozen=True)
class MotorBusSpec:
    """One motor bus: its driver (a `MOTOR_BUSES` key), port, ids and the driver's settings.

    Calling it opens the bus; with a joint calibration, positions are in the calibrated frame.
    `watchdog_ms` and `latency_s` are the Dynamixel driver's (None for other drivers).
    """

    motor_type: str
    port: str
    motor_ids: tuple[int, ...]
    baud: int
    period_s: float
    watchdog_ms: int | None = None
    latency_s: float | None = None
    joints: JointCalibration | None = None
    # {id: model number} as pairs, read by an earlier verified open (`remember_models`): an
    # unverified open (the emergency torque off) then uses each servo's own table unasked.
    models: tuple[tuple[int, int], ...] = ()

    def load_driver(self) -> type[MotorBus]:
        """The driver class for `motor_type`, imported now (nothing is opened)."""
        return load_class(MOTOR_BUSES[self.motor_type], f"motors type '{self.motor_type}'")

    def __call__(self, verify: bool = True) -> MotorBus:
        """Open the bus; `verify=False`: no open-time ping of every servo (emergency torque off)."""
        cls = self.load_driver()
        kwargs: dict[str, Any] = {"baud": self.baud, "period_s": self.period_s}
        if self.motor_type == "dynamixel":
            kwargs["verify"] = verify
            kwargs["models"] = dict(self.models)
        if self.watchdog_ms is not None:
            kwargs["watchdog_ms"] = self.watchdog_ms
        if self.latency_s is not None:
            kwargs["latency_s"] = self.latency_s
        bus = cls(self.port, list(self.motor_ids), **kwargs)
        if self.joints is None:
            return bus
        from edge_runtime.calibration_artifacts.offsets import CalibratedBus

        return CalibratedBus(bus, self.joints)


@dataclass(frozen=True)
class MultiBusSpec:
    """Several named buses (`[[buses]]`) opened as one `MultiBus`, joints in the robot's order.

    Each bus's own spec has no calibration: the joint calibration applies once, to the whole
    robot, as with a single bus. If one bus fails to open, the ones already open are closed
    (torque off) before the error goes up.
    """

    buses: tuple[tuple[str, MotorBusSpec], ...]
    motor_ids: tuple[int, ...]
    joints: JointCalibration | None = None

    def load_driver(self) -> type[MotorBus]:
        """Import every bus's driver now (nothing is opened); the `MultiBus` class."""
        from firmware_bridge.multi_bus import MultiBus

        for _name, spec in self.buses:
            spec.load_driver()
        return MultiBus

    def __call__(self, verify: bool = True) -> MotorBus:
        from firmware_bridge.multi_bus import MultiBus

        opened: list[tuple[str, MotorBus]] = []
        try:
            for name, spec in self.buses:
                opened.append((name, spec(verify=verify)))
            bus: MotorBus = MultiBus(opened, self.motor_ids)
        except BaseException:
            for _name, done in opened:
                done.close()
            raise
        if self.joints is None:
            return bus
        from edge_runtime.calibration_artifacts.offsets import CalibratedBus

        return CalibratedBus(bus, self.joints)


def remember_models(spec: MotorBusSpec | MultiBusSpec, bus: MotorBus) -> Any:
    """`spec` with the servo models `bus` (opened from it, verified) read at open.

    Without them an unverified open would take every servo for an X-series one, and a P- or
    Y-series servo's torque off would go to the wrong address.
    """
    inner = getattr(bus, "inner", bus)  # under a CalibratedBus
    if isinstance(spec, MultiBusSpec):
        buses = tuple(
            (name, remember_models(sub, part))
            for (name, sub), part in zip(spec.buses, getattr(inner, "buses", ()))
        )
        return replace(spec, buses=buses)
    numbers = getattr(inner, "model_numbers", None)
    if not numbers:
        return spec
    return replace(spec, models=tuple(sorted(numbers.items())))

"""The simulated arm's motors as the config's `[motors] type` says: servos or an MCU board.

Both devices drive the same MuJoCo arm (`MujocoPlant` is a `ServoPlant`) and sit on a pty, so
the runtime reaches them through its real drivers: `DynamixelBus` for `"dynamixel"` (a
`SimServoChain`), `McuBus` for `"mcu"` (a `SimulatedMcu`, the reference device of
docs/mcu-link.md). `status()` is what tests ask the simulator about the device itself: which
motors hold torque (the plant's truth), and the MCU's state, fault and e-stop count.

A robot with `[[buses]]` gets one device per bus, each on its own pty (`bus_links`: the rig's
link with the bus name appended) and driving its own joints of the same MuJoCo arm, so the
runtime's `MultiBus` talks to two real serial devices at once.

The simulated MCU announces a 40 ms period and 5 watchdog periods (200 ms): it answers from
a Python process that also steps physics and renders the camera, on a shared 2-core machine,
where a 40 ms watchdog (4 x 10 ms) latched on the simulator's own scheduling stalls. A real
board announces its real period; the host's 10 ms control period only has to fit inside it.
"""

from __future__ import annotations

from typing import Any

from edge_runtime.config import RobotConfig
from edge_runtime.sim.plant import MujocoPlant

SIM_MCU_PERIOD_S = 0.04
SIM_MCU_WATCHDOG_PERIODS = 5


def bus_links(link: str, config: RobotConfig) -> dict[str, str]:
    """{bus name: the pty link its simulated device appears at}, for a config with buses."""
    return {bus.name: f"{link}-{bus.name}" for bus in config.buses}


class SimMotors:
    """The motor device of the simulated arm, started on `link` (one per bus with buses)."""

    def __init__(
        self, config: RobotConfig, plant: MujocoPlant, link: str, witness: Any = None
    ) -> None:
        """`witness`: a `ServoWitness` recording every write the servos accept (servos only)."""
        self.kind = config.motors.type
        self.plant = plant
        self.devices: list[Any] = []
        try:
            if not config.buses:
                self.devices.append(
                    _device(self.kind, config, config.motor_ids, plant, link, config.motors.baud,
                            witness)
                )  # fmt: skip
            for bus in config.buses:
                joints = [j for j in config.joints if j.bus == bus.name]
                if bus.kind == "dynamixel":  # a chain answers in id order: its plant too
                    joints.sort(key=lambda j: j.id)
                part = MujocoPlant(plant.world, [j.name for j in joints])
                ids = [j.id for j in joints]
                link_of = bus_links(link, config)[bus.name]
                self.devices.append(
                    _device(bus.kind, config, ids, part, link_of, bus.baud, witness)
                )
        except BaseException:
            self.stop()
            raise
        self.kind = config.buses[0].kind if config.buses else self.kind
        self.device = self.devices[0]  # the one device faults are injected into

    def torque_on(self) -> list[bool]:
        """Which motors hold torque, as the physics sees it (limp or stiff), in config order."""
        by_joint = {}
        for device in self.devices:
            plant = device.plant
            by_joint.update(zip(plant.joint_names, plant.torque_on.tolist()))
        return [bool(by_joint[name]) for name in self.plant.joint_names]

    def status(self) -> dict[str, Any]:
        torque = {"torque_on": self.torque_on()}
        if self.kind == "mcu":
            return {**self.device.status(), **torque}
        trips = sum(
            d.stats.watchdog_trips for d in self.devices if hasattr(d.stats, "watchdog_trips")
        )
        return {"watchdog_trips": trips, **torque}

    def stop(self) -> None:
        for device in self.devices:
            device.stop()


def _device(
    kind: str,
    config: RobotConfig,
    ids: list[int],
    plant: MujocoPlant,
    link: str,
    baud: int,
    witness: Any,
) -> Any:
    """A started simulated device: an MCU board or a servo chain, driving `plant`'s joints."""
    if kind == "mcu":
        from firmware_bridge.sim.mcu_device import SimulatedMcu

        period_s = max(config.period_s, SIM_MCU_PERIOD_S)
        device: Any = SimulatedMcu(
            link, motors=len(ids), period_s=period_s,
            watchdog_periods=SIM_MCU_WATCHDOG_PERIODS, plant=plant,
        )  # fmt: skip
    else:
        from firmware_bridge.sim.servo_device import SimServoChain

        device = SimServoChain(ids, plant=plant, link=link, baud=baud, witness=witness)
    device.start()
    return device

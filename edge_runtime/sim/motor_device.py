"""The simulated arm's motors as the config's `[motors] type` says: servos or an MCU board.

Both devices drive the same MuJoCo arm (`MujocoPlant` is a `ServoPlant`) and sit on a pty, so
the runtime reaches them through its real drivers: `DynamixelBus` for `"dynamixel"` (a
`SimServoChain`), `McuBus` for `"mcu"` (a `SimulatedMcu`, the reference device of
docs/mcu-link.md). `status()` is what tests ask the simulator about the device itself: which
motors hold torque (the plant's truth), and the MCU's state, fault and e-stop count.

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


class SimMotors:
    """The motor device of the simulated arm, started on `link`."""

    def __init__(
        self, config: RobotConfig, plant: MujocoPlant, link: str, witness: Any = None
    ) -> None:
        """`witness`: a `ServoWitness` recording every write the servos accept (servos only)."""
        self.kind = config.motors.type
        self.plant = plant
        ids = config.motor_ids
        if self.kind == "mcu":
            from firmware_bridge.sim.mcu_device import SimulatedMcu

            period_s = max(config.period_s, SIM_MCU_PERIOD_S)
            self.device: Any = SimulatedMcu(
                link, motors=len(ids), period_s=period_s,
                watchdog_periods=SIM_MCU_WATCHDOG_PERIODS, plant=plant,
            )  # fmt: skip
        else:
            from firmware_bridge.sim.servo_device import SimServoChain

            self.device = SimServoChain(
                ids, plant=plant, link=link, baud=config.motors.baud, witness=witness
            )
        self.device.start()

    def torque_on(self) -> list[bool]:
        """Which motors hold torque, as the physics sees it (limp or stiff)."""
        return [bool(on) for on in self.plant.torque_on]

    def status(self) -> dict[str, Any]:
        torque = {"torque_on": self.torque_on()}
        if self.kind == "mcu":
            return {**self.device.status(), **torque}
        return {"watchdog_trips": self.device.stats.watchdog_trips, **torque}

    def stop(self) -> None:
        self.device.stop()

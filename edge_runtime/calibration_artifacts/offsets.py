"""`CalibratedBus`: a motor bus in the calibrated joint frame (host-side zero offsets).

With `offsets_applied = "host"` the joint calibration keeps zero offsets out of the servos'
EEPROM; wrapping the real bus in this decorator is the one line that applies them, so the
control loop, the safety filter and the recorder all see calibrated angles and never need to
know. Velocities and currents are unchanged (an offset does not change a rate).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edge_runtime.calibration_artifacts.schemas import JointCalibration
from edge_runtime.errors import CalibrationError
from firmware_bridge.base import JointState, MotorBus


class CalibratedBus(MotorBus):
    def __init__(self, inner: MotorBus, joints: JointCalibration) -> None:
        if list(inner.motor_ids) != joints.motor_ids:
            raise CalibrationError(
                f"the joint calibration is for motors {joints.motor_ids} but the bus has "
                f"{list(inner.motor_ids)}; re-run `edgerun calibrate joints`"
            )
        super().__init__(list(inner.motor_ids))
        self.inner = inner
        self.offsets_rad = joints.host_offsets_rad()

    def read_state(self) -> JointState:
        state = self.inner.read_state()
        return dataclasses.replace(state, positions_rad=state.positions_rad - self.offsets_rad)

    def _write_goal(self, positions_rad: np.ndarray) -> None:
        self.inner.write_goal(positions_rad + self.offsets_rad)

    def enable(self) -> None:
        self.inner.enable()

    def disable(self) -> None:
        self.inner.disable()

    def emergency_stop(self) -> bool:
        return self.inner.emergency_stop()

    def clear_device_stop(self) -> str:
        return self.inner.clear_device_stop()

    def _close(self) -> None:
        self.inner.close()

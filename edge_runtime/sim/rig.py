"""The simulated robot as the runtime sees a real one: servos on a pty, a camera port.

`SimRig` starts the MuJoCo world in real time, puts a simulated Dynamixel chain on a pseudo
terminal whose servos are driven by the MuJoCo arm, and renders the workspace camera. The
runtime then talks to the arm through the real `DynamixelBus` over the pty, exactly as it
would over a U2D2: the bytes on the wire are real, only the device is simulated.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from edge_runtime.config import RobotConfig

log = logging.getLogger(__name__)


class SimRig:
    def __init__(self, config: RobotConfig, seed: int | None = None) -> None:
        self.config = config
        self.seed = config.sim.seed if seed is None else seed
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.world: Any = None
        self.chain: Any = None
        self.camera: Any = None

    def start(self) -> SimRig:
        from edge_runtime.sim.camera import SimCamera
        from edge_runtime.sim.plant import MujocoPlant
        from edge_runtime.sim.world import SimWorld
        from firmware_bridge.sim.servo_device import SimServoChain

        try:
            self.world = SimWorld(seed=self.seed, realtime=True)
            if list(self.world.joint_names) != self.config.joint_names:
                raise ValueError(
                    f"the simulated arm has joints {list(self.world.joint_names)} but the config "
                    f"lists {self.config.joint_names}"
                )
            self.world.start()
            link = self.config.sim.servo_link
            if not link:
                self._tmp = tempfile.TemporaryDirectory(prefix="edgerun-sim-")
                link = str(Path(self._tmp.name) / "servos")
            plant = MujocoPlant(self.world, list(self.world.joint_names))
            self.chain = SimServoChain(
                self.config.motor_ids, plant=plant, link=link, baud=self.config.motors.baud
            ).start()
            cam = self.config.camera
            self.camera = SimCamera(self.world, width=cam.width, height=cam.height, fps=cam.fps)
        except BaseException:
            self.stop()
            raise
        log.info("simulated arm ready: servos on %s (seed %d)", self.port, self.seed)
        return self

    @property
    def port(self) -> str:
        return str(self.chain.port)

    def task_result(self) -> dict[str, Any]:
        distance = float(self.world.distance_to_goal())
        return {
            "target_distance_mm": round(distance * 1000, 1),
            "success": bool(self.world.task_success()),
        }

    def torque_enabled(self) -> list[bool]:
        """What the simulated servos themselves say: used to prove torque-off on exit."""
        return [bool(self.chain.servo(i).torque_on) for i in self.config.motor_ids]

    def stop(self) -> None:
        if self.chain is not None:
            self.chain.stop()
        if self.world is not None:
            self.world.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimRig:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

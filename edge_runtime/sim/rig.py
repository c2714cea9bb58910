"""The simulated robot, in its own process, seen by the runtime exactly like a real one.

`SimRig` starts a child process holding the MuJoCo world in real time, the arm's motors on a
pseudo terminal (a simulated Dynamixel chain, or with `[motors] type = "mcu"` the simulated
MCU board: `motor_device.SimMotors`), and the workspace camera's renderer. The runtime reaches
the motors through its real `DynamixelBus` or `McuBus` over the pty and the camera through
shared memory (`SharedFrameCamera`).

Why a process: on a real robot the servos and the camera are other devices; they do not
share the runtime's GIL. In one process the simulated devices' Python threads (answering
every packet, rendering 30 frames/s, stepping physics) held the GIL the control thread
waited for, stretching a tick's bus exchange from ~0.5 ms to 8 ms and adding misses the
runtime would never see on hardware. In its own process the demo measures the runtime.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from edge_runtime.config import RobotConfig
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.ipc.shared_slot import SharedArraySlot
from edge_runtime.sim.shared_camera import FrameCodec, SharedFrameCamera

log = logging.getLogger(__name__)

DEPTH_SCALE_M = 0.001
STARTUP_TIMEOUT_S = 60.0


class SimRig:
    def __init__(self, config: RobotConfig, seed: int | None = None) -> None:
        self.config = config
        self.seed = config.sim.seed if seed is None else seed
        self._ctx = mp.get_context("spawn")
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._process: Any = None
        self._conn: Any = None
        self._slot: SharedArraySlot | None = None
        self.camera: SharedFrameCamera | None = None
        self.port = ""

    def start(self) -> SimRig:
        cam = self.config.camera
        codec = FrameCodec(cam.height, cam.width)
        self.port = self.config.sim.servo_link
        if not self.port:
            self._tmp = tempfile.TemporaryDirectory(prefix="edgerun-sim-")
            self.port = str(Path(self._tmp.name) / "servos")
        self._slot = SharedArraySlot((codec.nbytes,), "uint8", ctx=self._ctx)
        new_frame = self._ctx.Event()
        stop = self._ctx.Event()
        self._conn, child_conn = self._ctx.Pipe()
        self._stop_event = stop
        self._process = self._ctx.Process(
            target=_serve,
            args=(self.config, self.seed, self.port, self._slot, new_frame, stop, child_conn),
            name="edgerun-sim",
            daemon=True,
        )
        self._process.start()
        try:
            if not self._conn.poll(STARTUP_TIMEOUT_S):
                raise EdgeRuntimeError("the simulated robot did not start within 60 s")
            reply = self._conn.recv()
            if "error" in reply:
                raise EdgeRuntimeError(f"the simulated robot failed to start: {reply['error']}")
        except BaseException:
            self.stop()
            raise
        self.camera = SharedFrameCamera(
            self._slot, new_frame, codec, reply["intrinsics"], DEPTH_SCALE_M
        )
        log.info(
            "simulated arm ready in process %d: servos on %s (seed %d)",
            self._process.pid,
            self.port,
            self.seed,
        )
        return self

    def _ask(self, what: str) -> Any:
        self._conn.send(what)
        if not self._conn.poll(10.0):
            raise EdgeRuntimeError(f"the simulated robot did not answer '{what}'")
        return self._conn.recv()

    def task_result(self) -> dict[str, Any]:
        return self._ask("task")

    def torque_enabled(self) -> list[bool]:
        """Which motors hold torque in the simulated arm: used to prove torque-off on exit."""
        return self._ask("torque")

    def motor_status(self) -> dict[str, Any]:
        """The simulated motor device's own view (MCU state, fault, e-stops; servo trips)."""
        return self._ask("motors")

    def stop(self) -> None:
        if self._process is not None:
            self._stop_event.set()
            self._process.join(timeout=5.0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=2.0)
            self._process = None
        if self._slot is not None:
            self._slot.close()
            self._slot.unlink()
            self._slot = None
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


def _serve(
    config: RobotConfig,
    seed: int,
    link: str,
    slot: SharedArraySlot,
    new_frame: Any,
    stop: Any,
    conn: Any,
) -> None:
    """The simulator process: world, motors on the pty, camera frames into shared memory."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the runtime; it stops us
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    from edge_runtime.sim.camera import SimCamera
    from edge_runtime.sim.motor_device import SimMotors
    from edge_runtime.sim.plant import MujocoPlant
    from edge_runtime.sim.world import SimWorld

    world = motors = camera = None
    try:
        world = SimWorld(seed=seed, realtime=True)
        if list(world.joint_names) != config.joint_names:
            raise ValueError(
                f"the simulated arm has joints {list(world.joint_names)} but the config lists "
                f"{config.joint_names}"
            )
        plant = MujocoPlant(world, list(world.joint_names))
        motors = SimMotors(config, plant, link)
        cam = config.camera
        camera = SimCamera(world, width=cam.width, height=cam.height, fps=cam.fps)
        camera.start()
        conn.send({"intrinsics": camera.intrinsics})
    except Exception as exc:
        conn.send({"error": str(exc)})
        for part in (camera, motors):
            if part is not None:
                part.stop()
        return
    codec = FrameCodec(config.camera.height, config.camera.width)
    packed = np.zeros(codec.nbytes, dtype=np.uint8)
    version = 0
    try:
        while not stop.is_set():
            frame, version = camera.wait_frame(version, timeout_s=0.05)
            if frame is not None:
                codec.pack(frame, packed)
                slot.put(packed)
                new_frame.set()
            while conn.poll():
                request = conn.recv()
                if request == "task":
                    conn.send(
                        {
                            "target_distance_mm": round(float(world.distance_to_goal()) * 1000, 1),
                            "success": bool(world.task_success()),
                        }
                    )
                elif request == "torque":
                    conn.send(motors.torque_on())
                elif request == "motors":
                    conn.send(motors.status())
    finally:
        camera.stop()
        motors.stop()
        slot.close()

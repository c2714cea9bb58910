"""The simulated robot's process: MuJoCo world, servos on a pty, cameras into shared memory.

The far side of `SimRig` (rig.py). Besides serving the devices it answers requests on its
pipe: the task's result, the servos' torque, what the servos witnessed, and the device faults
a fault campaign injects (the twin's faults, never hooks in the runtime):

- servos: `unplug` (the pty vanishes, like a pulled USB adapter), `corrupt` (byte flips on
  both directions), `silence` (servos that hear and answer nothing), `hardware_error`;
- camera: `camera_stall` (no frame for `seconds`), `camera_gone` (no frame any more), on
  every camera at once;
- `clear`: every fault off again and the servos power-cycled (the pty plugged back, torque
  off, hardware errors and watchdog trips cleared, frames flowing): a clean start per run.

Each fault answers the CLOCK_MONOTONIC time at which it took effect. The process ends when
asked, when its pipe reaches end of file or when its parent is gone: it never outlives the
runtime that started it (a kill -9 of `edgerun demo` used to leave it spinning).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.config import RobotConfig
from edge_runtime.ipc.shared_lock import SharedSignal
from edge_runtime.ipc.shared_slot import SharedArraySlot
from edge_runtime.sim.shared_camera import FrameCodec

FRAME_WAIT_S = 0.05  # how often the loop looks at its pipe and its parent, at the latest


@dataclass(frozen=True)
class RigSpec:
    config: RobotConfig
    seed: int
    link: str
    parent_pid: int
    witness: bool = False  # record every goal and torque write the servos accept


class RigDevice:
    """The devices, their faults and the request handlers (lives in the rig's process)."""

    def __init__(self, spec: RigSpec) -> None:
        from edge_runtime.sim.motor_device import SimMotors
        from edge_runtime.sim.plant import MujocoPlant
        from edge_runtime.sim.world import SimWorld
        from firmware_bridge.sim.servo_witness import ServoWitness

        config = spec.config
        self.ids = config.motor_ids
        self.world = self.motors = self.chain = self.camera = None
        self.cameras: list[Any] = []  # every SimCamera, primary (`self.camera`) first
        try:
            self.world = SimWorld(seed=spec.seed, realtime=True)
            if list(self.world.joint_names) != config.joint_names:
                raise ValueError(
                    f"the simulated arm has joints {list(self.world.joint_names)} but the "
                    f"config lists {config.joint_names}"
                )
            plant = MujocoPlant(self.world, list(self.world.joint_names))
            witness = ServoWitness() if spec.witness else None
            self.motors = SimMotors(config, plant, spec.link, witness=witness)
            if self.motors.kind != "mcu":  # the servo faults below act on the chain itself
                self.chain = self.motors.device
            self.cameras = _sim_cameras(self.world, config)
            self.camera = self.cameras[0]
            self.camera.start()  # followers (hardware sync) are rendered by the primary
            for camera in self.cameras[1:]:
                if camera not in self.camera.followers:
                    camera.start()
        except BaseException:
            self.stop()
            raise
        self.frames_paused_until_ns = 0  # camera stall (or gone: the end of time)

    def stop(self) -> None:
        for part in (*self.cameras, self.motors):
            if part is not None:
                part.stop()

    def publishing(self) -> bool:
        return time.monotonic_ns() >= self.frames_paused_until_ns

    def answer(self, request: Any) -> Any:
        """The reply to one request from `SimRig` (see the module docstring)."""
        kind, params = (request, {}) if isinstance(request, str) else request
        if kind == "task":
            return {
                "target_distance_mm": round(float(self.world.distance_to_goal()) * 1000, 1),
                "success": bool(self.world.task_success()),
            }
        if kind == "torque":
            if self.chain is None:
                return self.motors.torque_on()
            return [bool(self.chain.servo(i).torque_on) for i in self.ids]
        if kind == "motors":
            return self.motors.status()
        if kind == "witness" and self.chain is not None:
            witness = self.chain.witness
            return {"count": witness.count, "entries": witness.since(params.get("since", 0))}
        return self._fault(kind, params)

    def _fault(self, kind: str, params: dict[str, Any]) -> Any:
        from firmware_bridge.sim.servo_faults import ServoFaults

        chain = self.chain
        if chain is None and kind in ("unplug", "corrupt", "silence", "hardware_error", "clear"):
            # (and "witness" below): the campaign's servo twin; the MCU has its own tests
            return {"error": f"{kind!r} is a fault of the simulated servos, not of the MCU"}
        if kind == "unplug":
            chain.unplug()
        elif kind == "corrupt":
            rate = float(params["rate"])
            chain.faults.set(
                ServoFaults(corrupt_rate=rate, corrupt_rx_rate=rate, seed=params["seed"])
            )
        elif kind == "silence":
            chain.silence(params["ids"])
        elif kind == "hardware_error":
            chain.hardware_error(int(params["id"]), int(params["bits"]))
        elif kind == "camera_stall":
            self.frames_paused_until_ns = time.monotonic_ns() + int(params["seconds"] * 1e9)
        elif kind == "camera_gone":
            self.frames_paused_until_ns = 2**63 - 1
        elif kind == "clear":
            self._clear()
        else:
            return {"error": f"unknown request {kind!r}"}
        return {"applied_ns": time.monotonic_ns()}

    def _clear(self) -> None:
        from firmware_bridge.sim.servo_faults import ServoFaults

        chain = self.chain
        chain.replug()
        chain.faults.set(ServoFaults())
        chain.silence(())
        chain.power_cycle()
        self.frames_paused_until_ns = 0


def _sim_cameras(world: Any, config: RobotConfig) -> list[Any]:
    """A SimCamera per configured camera, primary first. With `[camera_sync] hardware` (and
    one rate for all) the others follow the primary: one trigger, one simulation instant."""
    from edge_runtime.sim.camera import SimCamera

    configs = config.camera_configs
    others = [
        SimCamera(world, cam.width, cam.height, cam.fps, camera=cam.sim_camera)
        for cam in configs[1:]
    ]
    synced = config.camera_sync.hardware and len({cam.fps for cam in configs}) == 1
    primary = configs[0]
    return [
        SimCamera(
            world, primary.width, primary.height, primary.fps, camera=primary.sim_camera,
            followers=others if synced else (),
        ),
        *others,
    ]  # fmt: skip


class FramePublisher:
    """Copies one camera's new frames into its shared slot (the rig's side of the cable)."""

    def __init__(
        self, device: RigDevice, index: int, slot: SharedArraySlot, new_frame: SharedSignal
    ) -> None:
        self.device = device
        self.camera = device.cameras[index]
        self.codec = FrameCodec(self.camera.height, self.camera.width)
        self.packed = np.zeros(self.codec.nbytes, dtype=np.uint8)
        self.slot = slot
        self.new_frame = new_frame
        self.version = 0

    def publish_next(self) -> None:
        """Wait (at most `FRAME_WAIT_S`) for a new frame and publish it unless paused."""
        frame, version = self.camera.wait_frame(self.version, timeout_s=FRAME_WAIT_S)
        if version == self.version:
            return  # nothing new: a timeout hands back the frame already published
        self.version = version
        if frame is not None and self.device.publishing():
            self.codec.pack(frame, self.packed)
            if self.slot.put(self.packed):  # skipped when a killed reader holds the lock
                self.new_frame.set()

    def run_until(self, done: threading.Event) -> None:
        while not done.is_set():
            self.publish_next()


def serve_rig(
    spec: RigSpec, slots: list[SharedArraySlot], new_frames: list[SharedSignal], conn: Any
) -> None:
    """The simulator process's entry point (see the module docstring).

    The primary camera is published from this loop, each other camera from a thread of its
    own, so no camera's frame waits for another's.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the runtime; it stops us
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    try:
        device = RigDevice(spec)
    except Exception as exc:
        conn.send({"error": str(exc)})
        return
    conn.send({"intrinsics": [camera.intrinsics for camera in device.cameras]})
    primary, *others = (
        FramePublisher(device, i, slot, signal_)
        for i, (slot, signal_) in enumerate(zip(slots, new_frames))
    )
    done = threading.Event()
    threads = [threading.Thread(target=p.run_until, args=(done,), daemon=True) for p in others]
    for thread in threads:
        thread.start()
    try:
        while os.getppid() == spec.parent_pid:
            primary.publish_next()
            if not _serve_requests(device, conn):
                break
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=1.0)
        device.stop()
        for slot in slots:
            slot.close()


def _serve_requests(device: RigDevice, conn: Any) -> bool:
    """Answer what is waiting on the pipe; False when asked to stop or the parent is gone."""
    try:
        while conn.poll():
            request = conn.recv()
            if request == "stop":
                return False
            conn.send(device.answer(request))
    except (EOFError, OSError):  # the pipe's other end is gone: so is our parent
        return False
    return True

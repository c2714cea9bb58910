"""The simulated robot, in its own process, seen by the runtime exactly like a real one.

`SimRig` starts a child process holding the MuJoCo world in real time, a simulated Dynamixel
chain on a pseudo terminal whose servos are the MuJoCo arm's joints, and a renderer per
configured camera (the workspace camera; the wrist camera too with `[[cameras]]`). The
runtime reaches the servos through the real `DynamixelBus` over the pty and each camera
through its own shared memory (`SharedFrameCamera`); several cameras reach it as one
`CameraSet` delivering frame sets, exactly as several RealSense cameras do.

Why a process: on a real robot the servos and the camera are other devices; they do not
share the runtime's GIL. In one process the simulated devices' Python threads (answering
every packet, rendering 30 frames/s, stepping physics) held the GIL the control thread
waited for, stretching a tick's bus exchange from ~0.5 ms to 8 ms and adding misses the
runtime would never see on hardware. In its own process the demo measures the runtime.

Nothing outlives a killed runtime: the process ends when its pipe closes or its parent is
gone, and the frame slot's names are unlinked once the process has attached (`ipc.names`),
unless `share_camera` keeps them for another process (a fault campaign's runtime under test).
The device faults it can inject and what its servos witnessed: `rig_device`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from edge_runtime.config import RobotConfig
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.ipc.names import remove_leftovers
from edge_runtime.ipc.shared_lock import SharedSignal
from edge_runtime.ipc.shared_slot import SharedArraySlot
from edge_runtime.sensors.base import Camera, Intrinsics
from edge_runtime.sensors.camera_set import CameraSet
from edge_runtime.sim.rig_device import RigSpec, serve_rig
from edge_runtime.sim.shared_camera import FrameCodec, SharedFrameCamera

log = logging.getLogger(__name__)

DEPTH_SCALE_M = 0.001
STARTUP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CameraLink:
    """What another process needs to read the rig's camera (pickles by shared-memory name)."""

    slot: SharedArraySlot
    new_frame: SharedSignal
    codec: FrameCodec
    intrinsics: Intrinsics

    def open(self, name: str = "sim-camera") -> SharedFrameCamera:
        return SharedFrameCamera(
            self.slot, self.new_frame, self.codec, self.intrinsics, DEPTH_SCALE_M, name
        )


class SimRig:
    def __init__(
        self,
        config: RobotConfig,
        seed: int | None = None,
        witness: bool = False,
        share_camera: bool = False,
    ) -> None:
        self.config = config
        self.seed = config.sim.seed if seed is None else seed
        self.witness = witness  # the servos record every goal and torque write
        self.share_camera = share_camera  # keep the frame slot's names for `camera_link`
        self._ctx = mp.get_context("spawn")
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._process: Any = None
        self._conn: Any = None
        self._slots: list[SharedArraySlot] = []  # one per camera, primary first
        self._new_frames: list[SharedSignal] = []
        self.camera: Camera | None = None  # one camera's frames, or a `CameraSet`'s sets
        self.camera_link: CameraLink | None = None  # the primary camera's
        self.camera_links: dict[str, CameraLink] = {}
        self.port = ""

    @property
    def bus_ports(self) -> dict[str, str] | None:
        """{bus name: pty link} for a robot with `[[buses]]` (one simulated device each, on the
        rig's port with the bus name appended); None for a single bus, which is on `port`."""
        if not self.config.buses:
            return None
        from edge_runtime.sim.motor_device import bus_links

        return bus_links(self.port, self.config)

    @property
    def pid(self) -> int:
        return self._process.pid if self._process is not None else 0

    def start(self) -> SimRig:
        cameras = self.config.camera_configs
        codecs = [FrameCodec(cam.height, cam.width) for cam in cameras]
        self.port = self.config.sim.servo_link
        if not self.port:
            self._tmp = tempfile.TemporaryDirectory(prefix="edgerun-sim-")
            self.port = str(Path(self._tmp.name) / "servos")
        remove_leftovers()
        self._slots = [SharedArraySlot((c.nbytes,), "uint8", tag="frame") for c in codecs]
        self._new_frames = [SharedSignal("frame") for _ in codecs]
        self._conn, child_conn = self._ctx.Pipe()
        spec = RigSpec(self.config, self.seed, self.port, os.getpid(), self.witness)
        self._process = self._ctx.Process(
            target=serve_rig,
            args=(spec, self._slots, self._new_frames, child_conn),
            name="edgerun-sim",
            daemon=True,
        )
        self._process.start()
        child_conn.close()  # ours is the only other end: the child sees EOF when we go
        try:
            if not self._conn.poll(STARTUP_TIMEOUT_S):
                raise EdgeRuntimeError("the simulated robot did not start within 60 s")
            try:
                reply = self._conn.recv()
            except EOFError:
                reply = {"error": f"its process exited (code {self._process.exitcode})"}
            if "error" in reply:
                raise EdgeRuntimeError(f"the simulated robot failed to start: {reply['error']}")
        except BaseException:
            self.stop()
            raise
        self.camera_links = {
            cam.name: CameraLink(slot, signal, codec, intrinsics)
            for cam, slot, signal, codec, intrinsics in zip(
                cameras, self._slots, self._new_frames, codecs, reply["intrinsics"]
            )
        }
        self.camera_link = self.camera_links[cameras[0].name]
        self.camera = self._open_cameras()
        if not self.share_camera:
            self._unlink_names()  # the child has attached: no kill can leave them behind
        log.info(
            "simulated arm ready in process %d: servos on %s (seed %d)",
            self._process.pid,
            self.port,
            self.seed,
        )
        return self

    def _open_cameras(self) -> Camera:
        """The primary camera alone (`[camera]`), or every camera as one `CameraSet`."""
        if len(self.camera_links) == 1:
            return self.camera_link.open()  # type: ignore[union-attr]
        sync = self.config.camera_sync
        members = {
            name: link.open(f"sim-camera:{name}") for name, link in self.camera_links.items()
        }
        return CameraSet(members, sync.tolerance_ms, primary=sync.primary)

    def _ask(self, what: Any) -> Any:
        self._conn.send(what)
        if not self._conn.poll(10.0):
            raise EdgeRuntimeError(f"the simulated robot did not answer {what!r}")
        return self._conn.recv()

    def inject(self, fault: str, **params: Any) -> int:
        """Turn on a device fault (see `rig_device`); the monotonic ns when it took effect."""
        reply = self._ask((fault, params))
        if "error" in reply:
            raise EdgeRuntimeError(f"the simulated robot refused {fault}: {reply['error']}")
        return int(reply["applied_ns"])

    def witnessed(self, since: int = 0) -> tuple[int, list[tuple[int, int, str, int]]]:
        """(entries so far, the entries after the first `since`): see `ServoWitness`."""
        reply = self._ask(("witness", {"since": since}))
        return int(reply["count"]), reply["entries"]

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
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            self._process.join(timeout=5.0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=2.0)
            self._process = None
            self._conn.close()
        self._unlink_names()
        for slot in self._slots:
            slot.close()
        self._slots = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _unlink_names(self) -> None:
        for part in (*self._slots, *self._new_frames):
            part.unlink()

    def __enter__(self) -> SimRig:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

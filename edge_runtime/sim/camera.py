"""`SimCamera`: the `Camera` port's twin, an RGB-D camera rendering the simulated workspace.

Behaves like a RealSense to the runtime: frames at a fixed rate from its own capture thread,
colour (H, W, 3) uint8 RGB, depth aligned to colour as uint16 with 1 mm per unit (0 = no data),
pinhole intrinsics from the MJCF camera's field of view, an increasing frame number, and a
device timestamp taken from simulated time (milliseconds), so it means "when the scene looked
like this" exactly as a hardware timestamp does.

The renderer (an OpenGL context) is created, used and freed on the capture thread. At 128x96
and 30 fps it delivered 30 frames/s for about 23% of one core (process CPU, measured). Several
cameras of one world (the scene and the wrist camera) each have their own thread and context.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from edge_runtime.errors import CameraError
from edge_runtime.loop.clock import Clock
from edge_runtime.sensors.base import Camera, Frame, Intrinsics
from edge_runtime.sim.render import RgbdImage, RgbdRenderer, camera_intrinsics, render_same_instant
from edge_runtime.sim.world import CAMERA_NAME, SimWorld

DEPTH_SCALE_M = 0.001


class SimCamera(Camera):
    def __init__(
        self,
        world: SimWorld,
        width: int = 128,
        height: int = 96,
        fps: float = 30.0,
        camera: str = CAMERA_NAME,
        clock: Clock | None = None,
        followers: Sequence[SimCamera] = (),
    ) -> None:
        super().__init__(name=f"sim-camera:{camera}", clock=clock)
        # Cameras triggered with this one (hardware sync's twin): rendered on this thread from
        # the same simulation instant and delivered to them; they are never started themselves.
        self.followers = tuple(followers)
        if width < 16 or height < 16 or fps <= 0:
            raise ValueError(
                f"SimCamera needs width, height >= 16 and fps > 0, got {width}x{height} @ {fps}"
            )
        self.world = world
        self.width = width
        self.height = height
        self.fps = fps
        self.camera = camera
        try:
            world.model.camera(camera)
        except KeyError as exc:
            raise CameraError(f"the simulated world has no camera named '{camera}'") from exc
        self.intrinsics: Intrinsics = camera_intrinsics(world, width, height, camera)
        self._renderer: RgbdRenderer | None = None
        self._next_ns = 0
        self._frame_number = 0

    def start(self, first_frame_timeout_s: float = 10.0) -> None:
        """Start streaming and return once the first frame exists, like a RealSense pipeline.

        Creating the OpenGL context takes 0.1-0.5 s on a loaded CPU; paying it here, before
        anyone enables the motors, keeps it out of the control loop's first ticks. A camera
        that cannot render raises `CameraError` here instead of retrying forever.
        """
        already_running = self._thread is not None
        super().start()
        if already_running:
            return
        frame, _ = self.wait_frame(0, first_frame_timeout_s)
        if frame is None:
            reason = self.last_error or f"no frame within {first_frame_timeout_s:.0f} s"
            self.stop()
            raise CameraError(f"{self.name} did not start: {reason}")

    def _open(self) -> None:
        # Frames fall on a grid of the period from the clock's zero, so free-running simulated
        # cameras at one rate expose near the same instants; what is left between two of them
        # is their renders' queueing (followers show exactly the same instant).
        period_ns = int(1e9 / self.fps)
        self._next_ns = (time.monotonic_ns() // period_ns + 1) * period_ns
        self._frame_number = 0

    def _capture(self) -> Frame | None:
        period_ns = int(1e9 / self.fps)
        wait_s = (self._next_ns - time.monotonic_ns()) / 1e9
        if wait_s > 0 and self._stop.wait(wait_s):
            self._close()  # stopping: free the GL context on the thread that made it
            return None
        # Frames we were too late for are skipped, never rendered in a burst.
        self._next_ns += period_ns
        now = time.monotonic_ns()
        if self._next_ns < now:
            self._next_ns = now + period_ns
        if self._renderer is None:
            try:
                for cam in (self, *self.followers):
                    cam._renderer = RgbdRenderer(cam.world, cam.width, cam.height, cam.camera)
            except Exception as exc:  # GL context creation: OSMesa missing, bad MUJOCO_GL
                raise CameraError(
                    f"cannot render the simulated camera ({exc}); install libosmesa6 or set "
                    "MUJOCO_GL to a working backend (osmesa, egl)"
                ) from exc
        cameras = (self, *self.followers)
        images = render_same_instant([cam._renderer for cam in cameras])  # type: ignore[misc]
        host_time_ns = self.clock.now_ns()
        frames = [cam._frame(image, host_time_ns) for cam, image in zip(cameras, images)]
        for follower, frame in zip(self.followers, frames[1:]):
            follower.deliver(frame)
        return frames[0]

    def _frame(self, image: RgbdImage, host_time_ns: int) -> Frame:
        self._frame_number += 1
        return Frame(
            color=image.color,
            depth=image.depth_u16(DEPTH_SCALE_M),
            depth_scale_m=DEPTH_SCALE_M,
            intrinsics=self.intrinsics,
            device_time_ms=image.sim_time_s * 1000.0,
            device_clock="sim",
            host_time_ns=host_time_ns,
            frame_number=self._frame_number,
        )

    def _close(self) -> None:
        for cam in (self, *self.followers):
            renderer, cam._renderer = cam._renderer, None
            if renderer is not None:
                renderer.close()

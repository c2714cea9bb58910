"""`CameraSet`: several named cameras behind the one `Camera` port, delivering frame sets.

The runtime, the inference worker and the recorder read one camera; a robot with a wrist
and a scene camera gives them a `CameraSet`. Each member keeps its own capture thread; every
frame a member captures is offered (on that thread) to a `FrameSetMatcher`, and each set it
forms replaces the newest one here. So `read_latest` and `wait_frame` hand out `FrameSet`s,
whose own fields are the primary camera's frame: code written for one camera sees the
primary camera and code that knows about names reads `FrameSet.cameras`.

A member's failure is the set's failure: its capture-thread fault stops the robot through
the same `on_fault` as a single camera's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from edge_runtime.errors import CameraError
from edge_runtime.loop.clock import Clock
from edge_runtime.sensors.base import Camera, Frame
from edge_runtime.sensors.frame_set import FrameSetMatcher


class CameraSet(Camera):
    """Named member cameras; the first (or `primary`) names the set's own frame fields."""

    def __init__(
        self,
        members: Mapping[str, Camera],
        tolerance_ms: float,
        primary: str = "",
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name="cameras", clock=clock)
        if not members:
            raise CameraError("a camera set needs at least one camera; add [[cameras]] entries")
        self.members = dict(members)
        primary = primary or next(iter(self.members))
        if primary not in self.members:
            raise CameraError(
                f"the primary camera '{primary}' is not one of {', '.join(self.members)}"
            )
        self.matcher = FrameSetMatcher(list(self.members), tolerance_ms, primary)
        self._match_lock = threading.Lock()
        self._started: list[Camera] = []

    @property
    def intrinsics(self) -> Any:
        """The primary camera's intrinsics (what a single-camera caller asks for)."""
        return getattr(self.members[self.matcher.primary], "intrinsics", None)

    def start(self) -> None:
        if self._started:
            return
        try:
            for name, camera in self.members.items():
                camera.on_fault = self._member_fault
                camera.on_frame = self._listener(name)
                camera.start()
                self._started.append(camera)
        except BaseException:
            self.stop()
            raise

    def _listener(self, name: str) -> Any:
        def offer(frame: Frame) -> None:
            frame = replace(frame, camera=name)  # the log and the model know whose it is
            with self._match_lock:  # sets are formed and published in order
                frame_set = self.matcher.offer(name, frame)
                if frame_set is not None:
                    self.frames_captured += 1
                    self._slot.put(frame_set)
            if frame_set is not None and self.on_frame is not None:
                self.on_frame(frame_set)

        return offer

    def _member_fault(self, where: str, exc: BaseException) -> None:
        if self.on_fault is not None:
            self.on_fault(where, exc)

    def stop(self) -> None:
        started, self._started = self._started, []
        for camera in reversed(started):
            camera.stop()

    def stats(self) -> dict[str, Any]:
        """The matcher's counts and skew, and each member's frames and capture errors."""
        return {
            **self.matcher.stats(),
            "primary": self.matcher.primary,
            "cameras": {
                name: {"frames": cam.frames_captured, "errors": cam.capture_errors}
                for name, cam in self.members.items()
            },
        }

    def _open(self) -> None:
        """Members open themselves in `start`."""

    def _capture(self) -> Frame | None:
        """Never called: sets are formed on the members' capture threads."""
        return None

    def _close(self) -> None:
        """Members close themselves in `stop`."""

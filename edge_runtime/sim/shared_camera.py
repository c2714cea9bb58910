"""Camera frames from another process through shared memory: the simulator's camera cable.

The simulated robot runs in its own process (see `rig.py`), like a real robot's devices run
outside the robot computer's Python. Its renderer packs each frame — colour, depth and the
frame's stamps — into one `SharedArraySlot`, so colour, depth and stamps always belong to the
same frame, and sets a signal (`SharedSignal`). `SharedFrameCamera` is the `Camera` port on
the runtime side: its capture thread blocks on that signal (in C, without the GIL) and
unpacks the newest frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.ipc.shared_slot import SharedArraySlot
from edge_runtime.sensors.base import Camera, Frame, Intrinsics

_META = 3  # frame number, device time (float64 bits), host monotonic time (ns)


@dataclass(frozen=True)
class FrameCodec:
    """Packs a frame of a fixed size into a flat uint8 array and back."""

    height: int
    width: int

    @property
    def nbytes(self) -> int:
        return self.height * self.width * 5 + _META * 8

    def pack(self, frame: Frame, out: np.ndarray) -> None:
        color_end = self.height * self.width * 3
        depth_end = color_end + self.height * self.width * 2
        out[:color_end] = frame.color.reshape(-1)
        out[color_end:depth_end] = (
            np.ascontiguousarray(frame.depth, np.uint16).view(np.uint8).reshape(-1)
        )
        meta = np.array(
            [
                frame.frame_number,
                np.float64(frame.device_time_ms).view(np.int64),
                frame.host_time_ns,
            ],
            dtype=np.int64,
        )
        out[depth_end:] = meta.view(np.uint8)

    def unpack(
        self, data: np.ndarray, intrinsics: Intrinsics, depth_scale_m: float, device_clock: str = ""
    ) -> Frame:
        color_end = self.height * self.width * 3
        depth_end = color_end + self.height * self.width * 2
        meta = data[depth_end:].view(np.int64)
        return Frame(
            color=data[:color_end].reshape(self.height, self.width, 3),
            depth=data[color_end:depth_end].view(np.uint16).reshape(self.height, self.width),
            depth_scale_m=depth_scale_m,
            intrinsics=intrinsics,
            device_time_ms=float(meta[1:2].view(np.float64)[0]),
            host_time_ns=int(meta[2]),
            frame_number=int(meta[0]),
            device_clock=device_clock,
        )


class SharedFrameCamera(Camera):
    """The runtime-side `Camera` for frames another process writes into a `SharedArraySlot`."""

    def __init__(
        self,
        slot: SharedArraySlot,
        new_frame: Any,  # a SharedSignal the writer sets after each frame
        codec: FrameCodec,
        intrinsics: Intrinsics,
        depth_scale_m: float,
        name: str = "sim-camera",
        device_clock: str = "sim",  # the simulator's cameras all stamp simulated time
    ) -> None:
        super().__init__(name)
        self.device_clock = device_clock
        self.slot = slot
        self.new_frame = new_frame
        self.codec = codec
        self.intrinsics = intrinsics
        self.depth_scale_m = depth_scale_m
        self._version = 0

    def _open(self) -> None:
        self._version = 0

    def _capture(self) -> Frame | None:
        if not self.new_frame.wait(0.1):
            return None
        self.new_frame.clear()
        data, version = self.slot.get()
        if data is None or version == self._version:
            return None
        self._version = version
        return self.codec.unpack(data, self.intrinsics, self.depth_scale_m, self.device_clock)

    def _close(self) -> None:
        """The slot belongs to the simulator process handle, which closes it."""

"""Cameras behind the `Camera` port: RealSense (live and playback) and the simulated camera."""

from edge_runtime.sensors.base import Camera, Frame, Intrinsics

__all__ = ["Camera", "Frame", "Intrinsics"]

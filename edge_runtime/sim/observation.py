"""The image → `observation.rgbd` conversion lives with the runtime's preprocessing."""

from edge_runtime.pipeline.preprocess import rgbd_tensor

__all__ = ["rgbd_tensor"]

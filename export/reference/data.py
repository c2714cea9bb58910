"""Demonstrations from the simulator's scripted expert, as training tensors.

Observations go through `edge_runtime.pipeline.preprocess.rgbd_tensor` - the one function the
runtime and the evaluator also use - so the networks see in training exactly the numbers they
will see on the robot. Images are kept as float16 (half the memory; the convs run in float32).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge_runtime.pipeline.preprocess import rgbd_tensor

# The analytic bundle's normalisation, so both bundles share one preprocessing contract.
RGB_MEAN = (0.5, 0.5, 0.5)
RGB_STD = (0.25, 0.25, 0.25)
DEPTH_MAX_M = 2.0


@dataclass(frozen=True)
class Demonstrations:
    rgbd: np.ndarray  # (N, 4, H, W) float16
    joints: np.ndarray  # (N, J) float32 rad
    actions: np.ndarray  # (N, chunk, J) float32 rad, the expert's chunk at that observation
    next_index: np.ndarray  # (N,) int64: the next observation of the episode, or -1
    episodes: int
    expert_success: float

    def __len__(self) -> int:
        return len(self.joints)


def to_rgbd(color: np.ndarray, depth_u16: np.ndarray, depth_scale_m: float) -> np.ndarray:
    """(N, H, W, 3) uint8 + (N, H, W) uint16 -> (N, 4, H, W) float32 observation tensors."""
    out = np.empty((len(color), 4, *color.shape[1:3]), np.float32)
    for i in range(len(color)):
        depth_m = depth_u16[i].astype(np.float32) * np.float32(depth_scale_m)
        out[i] = rgbd_tensor(color[i], depth_m, RGB_MEAN, RGB_STD, DEPTH_MAX_M)[0]
    return out


def collect(
    episodes: int, seed: int, progress: Callable[[int, int], None] | None = None
) -> Demonstrations:
    """Run the scripted expert for `episodes` seeded episodes and tensorise them."""
    from edge_runtime.sim.episodes import collect_episodes

    raw = collect_episodes(episodes, seed=seed, progress=progress)
    rgbd = to_rgbd(raw["color"], raw["depth"], float(raw["depth_scale_m"])).astype(np.float16)
    episode = raw["episode"]
    following = np.arange(1, len(episode) + 1)
    same = np.zeros(len(episode), bool)
    same[:-1] = episode[1:] == episode[:-1]
    next_index = np.where(same, following, -1).astype(np.int64)
    return Demonstrations(
        rgbd=rgbd,
        joints=raw["joint_positions"].astype(np.float32),
        actions=raw["actions"].astype(np.float32),
        next_index=next_index,
        episodes=episodes,
        expert_success=float(np.mean(raw["success"])),
    )


def observation_samples(demos: Demonstrations, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A spread of observations keyed by source (for calibration and the accuracy gate)."""
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(demos), size=min(count, len(demos)), replace=False))
    return {
        "observation.rgbd": demos.rgbd[pick].astype(np.float32)[:, None],
        "observation.joint_positions": demos.joints[pick][:, None],
    }

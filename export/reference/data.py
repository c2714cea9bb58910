"""Demonstrations from the simulator's scripted expert, as training tensors.

Observations go through `edge_runtime.pipeline.preprocess.rgbd_tensor` - the one function the
runtime and the evaluator also use - so the networks see in training exactly the numbers they
will see on the robot. Images are kept as float16 (half the memory; the convs run in float32).

A training set joins nominal episodes (small DART noise: what the policy must imitate) with
exploration episodes (correlated action offsets: what the planner's off-path candidates do, so
the world model has seen their consequences). Both have varied scene lighting.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.ipc.lifetime import die_with_parent
from edge_runtime.pipeline.preprocess import rgbd_tensor

# The analytic bundle's normalisation, so both bundles share one preprocessing contract.
RGB_MEAN = (0.5, 0.5, 0.5)
RGB_STD = (0.25, 0.25, 0.25)
DEPTH_MAX_M = 2.0
LIGHTING_JITTER = 0.3  # each light's level within +-30% per episode
BLOCK_EPISODES = 40  # episodes per worker task


@dataclass(frozen=True)
class Demonstrations:
    rgbd: np.ndarray  # (N, 4, H, W) float16
    joints: np.ndarray  # (N, J) float32 rad
    actions: np.ndarray  # (N, chunk, J) float32 rad, the expert's chunk at that observation
    executed: np.ndarray  # (N, K, J) float32 rad, targets commanded until the next observation
    distance_m: np.ndarray  # (N,) float32, tool point to goal (privileged; the task cost)
    next_index: np.ndarray  # (N,) int64: the next observation of the episode, or -1
    episodes: int
    expert_success: float

    def __len__(self) -> int:
        return len(self.joints)

    def successors(self, steps: int) -> np.ndarray:
        """(M, steps + 1) index chains t, t+1, ..., t+steps within one episode."""
        chains = [np.arange(len(self))]
        for _ in range(steps):
            previous = chains[-1]
            chains.append(np.where(previous >= 0, self.next_index[np.maximum(previous, 0)], -1))
        stacked = np.stack(chains, axis=1)
        return stacked[np.all(stacked >= 0, axis=1)]


def to_rgbd(color: np.ndarray, depth_u16: np.ndarray, depth_scale_m: float) -> np.ndarray:
    """(N, H, W, 3) uint8 + (N, H, W) uint16 -> (N, 4, H, W) float32 observation tensors."""
    out = np.empty((len(color), 4, *color.shape[1:3]), np.float32)
    for i in range(len(color)):
        depth_m = depth_u16[i].astype(np.float32) * np.float32(depth_scale_m)
        out[i] = rgbd_tensor(color[i], depth_m, RGB_MEAN, RGB_STD, DEPTH_MAX_M)[0]
    return out


def collect(
    episodes: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    exploration_rad: float = 0.0,
    lighting_jitter: float = LIGHTING_JITTER,
    workers: int | None = None,
) -> Demonstrations:
    """Run the scripted expert for `episodes` seeded episodes and tensorise them.

    Rendering is nearly all the cost and runs on one core per process, so blocks of episodes
    go to `workers` processes (default: one per core, at most 2); the episodes, and so the
    data, are the same for any worker count.
    """
    from edge_runtime.sim.episodes import collect_episodes

    options = {"exploration_rad": exploration_rad, "lighting_jitter": lighting_jitter}
    workers = workers or min(2, os.cpu_count() or 1)
    if workers <= 1 or episodes < 2 * BLOCK_EPISODES:
        raw = collect_episodes(episodes, seed=seed, progress=progress, **options)  # type: ignore[arg-type]
    else:
        blocks = [(seed, first, min(BLOCK_EPISODES, episodes - first), options)
                  for first in range(0, episodes, BLOCK_EPISODES)]  # fmt: skip
        parts = []
        context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
        with ProcessPoolExecutor(workers, context, initializer=die_with_parent) as pool:
            for part in pool.map(_collect_block, blocks):
                parts.append(part)
                if progress is not None:
                    progress(sum(len(p["success"]) for p in parts), episodes)
        raw = _join(parts)
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
        executed=raw["executed"].astype(np.float32),
        distance_m=raw["distance_m"].astype(np.float32),
        next_index=next_index,
        episodes=episodes,
        expert_success=float(np.mean(raw["success"])),
    )


def _collect_block(block: tuple[int, int, int, dict[str, Any]]) -> dict[str, np.ndarray]:
    from edge_runtime.sim.episodes import collect_episodes

    seed, first, count, options = block
    return collect_episodes(count, seed=seed, first=first, **options)


def _join(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate per-observation and per-episode arrays; constants come from the first."""
    return {
        key: np.concatenate([p[key] for p in parts]) if value.ndim and key != "joint_names"
        else value
        for key, value in parts[0].items()
    }  # fmt: skip


def concatenate(parts: list[Demonstrations]) -> Demonstrations:
    """One training set from several collections (episode links stay within each part)."""
    offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
    next_index = np.concatenate(
        [np.where(p.next_index >= 0, p.next_index + off, -1) for p, off in zip(parts, offsets)]
    )
    episodes = sum(p.episodes for p in parts)
    return Demonstrations(
        rgbd=np.concatenate([p.rgbd for p in parts]),
        joints=np.concatenate([p.joints for p in parts]),
        actions=np.concatenate([p.actions for p in parts]),
        executed=np.concatenate([p.executed for p in parts]),
        distance_m=np.concatenate([p.distance_m for p in parts]),
        next_index=next_index.astype(np.int64),
        episodes=episodes,
        expert_success=sum(p.expert_success * p.episodes for p in parts) / max(episodes, 1),
    )


def observation_samples(demos: Demonstrations, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A spread of observations keyed by source (for calibration and the accuracy gate).

    Besides camera and joints, each sample carries what the runtime feeds the world-model
    roles: the targets commanded over the last step (`observation.executed_actions`) and a
    planner's candidate chunks around the expert's (`planner.candidates`).
    """
    from export.world_model.candidates import planner_candidates

    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(demos), size=min(count, len(demos)), replace=False))
    return {
        "observation.rgbd": demos.rgbd[pick].astype(np.float32)[:, None],
        "observation.joint_positions": demos.joints[pick][:, None],
        "observation.executed_actions": demos.executed[pick][:, None],
        "planner.candidates": np.stack(
            [planner_candidates(demos.actions[i], rng) for i in pick]
        ).astype(np.float32),
    }

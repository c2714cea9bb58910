"""Demonstrations for training: the scripted expert driving the arm, seen by the camera.

Runs as fast as the CPU allows (no real-time pacing) and is deterministic for a seed: every
episode gets its own seed from `SeedSequence([seed, index])`, which places the target and
perturbs the start pose. At every observation (each `obs_period_s` of simulated time) it
records the camera image at model resolution, the joint positions and the expert's action
chunk for that moment, then executes the first `obs_period_s / dt_s` actions of the chunk
(with optional Gaussian noise, DART-style, so the data also covers off-path states; the
recorded chunk stays the clean expert answer). It also records what a world model learns
from: the targets actually commanded until the next observation (noise included) and the
tool point's distance to the goal (privileged, the task cost a cost head learns).

`exploration_rad` adds one Gaussian offset per observation to all of its executed actions:
correlated noise moves the arm well off the expert's path (what a planner's candidates do),
where independent per-action noise mostly averages out in the servo. `lighting_jitter` scales
the scene's lights per episode, so models learn that brightness is not the task.

Measured on the shared 2-core dev machine at 128x96: 3.6-5.7 episodes/s (25 observations
each, 90-140 observations/s); rendering is nearly all of it (physics alone runs at 240k-380k
steps/s, a 2.5 s episode is 1250 steps).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edge_runtime.sim.expert import ChunkSpec, ScriptedExpert
from edge_runtime.sim.render import RgbdRenderer
from edge_runtime.sim.world import JOINT_NAMES, SimWorld

DEPTH_SCALE_M = 0.001


def episode_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def start_episode(world: SimWorld, ep_seed: int, start_noise_rad: float) -> np.random.Generator:
    """Seeded target and start pose (home + Gaussian noise); returns the episode's RNG."""
    rng = np.random.default_rng([ep_seed, 1])
    home = world.home_joints()
    limits = world.joint_limits()
    start = np.clip(home + rng.normal(0.0, start_noise_rad, home.shape), *limits.T)
    world.reset(ep_seed, joints_rad=start)
    return rng


def collect_episodes(
    n: int,
    seed: int = 0,
    width: int = 128,
    height: int = 96,
    spec: ChunkSpec | None = None,
    obs_period_s: float = 0.1,
    episode_s: float = 2.5,
    start_noise_rad: float = 0.15,
    action_noise_rad: float = 0.02,
    tolerance_m: float = 0.02,
    progress: Callable[[int, int], None] | None = None,
    exploration_rad: float = 0.0,
    lighting_jitter: float = 0.0,
    first: int = 0,
) -> dict[str, np.ndarray]:
    """`n` expert episodes (indices `first` .. `first + n - 1` of `seed`) as arrays (save with
    `np.savez(path, **arrays)`). Episode `i` is the same whatever `first`, so workers can
    collect disjoint index ranges of one seed and their arrays concatenate to one collection.

    Per observation (N = all observations of all episodes):
      color (N, H, W, 3) uint8 RGB; depth (N, H, W) uint16, metres = depth * depth_scale_m;
      joint_positions (N, J) float32 rad; actions (N, chunk_length, J) float32 rad (absolute
      joint targets, action k for time t + (k + 1) * dt_s); episode (N,) int32; time_s (N,)
      float32; target_m (N, 3) float32; executed (N, K, J) float32 rad, the K targets
      commanded after this observation, oldest first (K = obs_period_s / dt_s); distance_m (N,)
      float32, tool point to goal at this observation.
    Per episode: success (n,) bool; final_distance_m (n,) float32; seeds (n,) int64.
    Constants: joint_names (J,) str; dt_s; chunk_length; depth_scale_m; obs_period_s.
    Turn an observation into the encoder input with `edge_runtime.pipeline.preprocess.rgbd_tensor`.
    """
    if n < 1:
        raise ValueError(f"collect_episodes needs n >= 1 episodes, got {n}")
    spec = spec or ChunkSpec()
    world = SimWorld(seed=seed)
    expert = ScriptedExpert(world, spec)
    steps_per_action = max(1, round(spec.dt_s / world.timestep_s))
    actions_per_obs = max(1, round(obs_period_s / spec.dt_s))
    obs_per_episode = max(1, round(episode_s / (actions_per_obs * spec.dt_s)))
    cols: dict[str, list[np.ndarray]] = {k: [] for k in _PER_OBS}
    success, final, seeds = [], [], []
    lights = _Lights(world)
    with RgbdRenderer(world, width, height) as renderer:
        for index in range(first, first + n):
            ep_seed = episode_seed(seed, index)
            rng = start_episode(world, ep_seed, start_noise_rad)
            lights.jitter(np.random.default_rng([ep_seed, 3]), lighting_jitter)
            for _ in range(obs_per_episode):
                image = renderer.render()
                q = world.joint_positions()
                chunk = expert.action_chunk(q)
                cols["color"].append(image.color)
                cols["depth"].append(image.depth_u16(DEPTH_SCALE_M))
                cols["joint_positions"].append(q.astype(np.float32))
                cols["actions"].append(chunk)
                cols["episode"].append(np.int32(index))
                cols["time_s"].append(np.float32(image.sim_time_s))
                cols["target_m"].append(world.target_position().astype(np.float32))
                cols["distance_m"].append(np.float32(world.distance_to_goal()))
                offset = rng.normal(0.0, exploration_rad, q.shape) if exploration_rad else 0.0
                executed = []
                for action in chunk[:actions_per_obs]:
                    noise = rng.normal(0.0, action_noise_rad, action.shape)
                    executed.append(action + noise + offset)
                    world.set_joint_targets(executed[-1])
                    world.step(steps_per_action)
                cols["executed"].append(np.array(executed, np.float32))
            success.append(world.task_success(tolerance_m))
            final.append(world.distance_to_goal())
            seeds.append(ep_seed)
            if progress is not None:
                progress(index + 1 - first, n)
    lights.restore()
    arrays = {k: np.stack(v) for k, v in cols.items()}
    arrays.update(
        success=np.array(success, bool),
        final_distance_m=np.array(final, np.float32),
        seeds=np.array(seeds, np.int64),
        joint_names=np.array(JOINT_NAMES),
        dt_s=np.float32(spec.dt_s),
        chunk_length=np.int32(spec.chunk_length),
        depth_scale_m=np.float32(DEPTH_SCALE_M),
        obs_period_s=np.float32(actions_per_obs * spec.dt_s),
    )
    return arrays


_PER_OBS = (
    "color",
    "depth",
    "joint_positions",
    "actions",
    "episode",
    "time_s",
    "target_m",
    "distance_m",
    "executed",
)


class _Lights:
    """The scene's light levels, scaled per episode and restored afterwards."""

    def __init__(self, world: SimWorld) -> None:
        self.model = world.model
        head = self.model.vis.headlight
        self.saved = (head.ambient.copy(), head.diffuse.copy(), self.model.light_diffuse.copy())

    def jitter(self, rng: np.random.Generator, fraction: float) -> None:
        """Each light source by its own factor in [1 - fraction, 1 + fraction]."""
        if fraction <= 0.0:
            return
        ambient, diffuse, lights = self.saved
        gains = rng.uniform(1.0 - fraction, 1.0 + fraction, 2 + len(lights))
        head = self.model.vis.headlight
        head.ambient[:] = ambient * gains[0]
        head.diffuse[:] = diffuse * gains[1]
        self.model.light_diffuse[:] = lights * gains[2:, None]

    def restore(self) -> None:
        ambient, diffuse, lights = self.saved
        self.model.vis.headlight.ambient[:] = ambient
        self.model.vis.headlight.diffuse[:] = diffuse
        self.model.light_diffuse[:] = lights

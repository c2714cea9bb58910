"""Task success of a bundle's policy in the simulator, fast and deterministic.

The bundle runs in ONNX Runtime in-process against a manual-time `SimWorld`: render, run the
runtime's own `BundlePolicy` on the frame, execute the first actions of the chunk, repeat.
No serial link, no real-time pacing, no threads: this measures the *model*, while `edgerun
demo` measures the runtime. Used for the analytic bundle's test and by the export toolchain
to report FP32 vs INT8 success over the same seeded episodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_runtime.bundle.reader import Bundle, open_bundle
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sim.episodes import DEPTH_SCALE_M, episode_seed, start_episode
from edge_runtime.sim.render import RgbdRenderer, camera_intrinsics
from edge_runtime.sim.world import JOINT_NAMES, SimWorld


@dataclass(frozen=True)
class EvalResult:
    episodes: int
    successes: int
    final_distance_m: tuple[float, ...]

    @property
    def success_rate(self) -> float:
        return self.successes / max(self.episodes, 1)


def evaluate_bundle(
    bundle: str | Path | Bundle,
    episodes: int = 20,
    seed: int = 0,
    episode_s: float = 3.0,
    replan_period_s: float = 0.1,
    tolerance_m: float = 0.02,
    start_noise_rad: float = 0.15,
    development_mode: bool = True,
    trusted_keys: tuple[str, ...] = (),
) -> EvalResult:
    """Closed-loop success rate over seeded episodes.

    Episode `i` of `seed` has the same target and start pose as in `collect_episodes` with
    the same `seed` and `start_noise_rad`, so compare models on one seed and train on another.
    """
    if not isinstance(bundle, Bundle):
        bundle = open_bundle(bundle, trusted_keys, development_mode=development_mode)
    act = bundle.manifest.action
    if tuple(act.joint_names) != JOINT_NAMES:
        raise ValueError(
            f"bundle joints {act.joint_names} are not the simulated arm's {JOINT_NAMES}"
        )
    policy = BundlePolicy(bundle, backend="onnxruntime")
    pre = bundle.manifest.preprocessing
    height, width = pre.image_size
    world = SimWorld(seed=seed)
    steps_per_action = max(1, round(act.dt_s / world.timestep_s))
    actions_per_plan = max(1, min(act.chunk_length, round(replan_period_s / act.dt_s)))
    successes, finals = 0, []
    intrinsics = camera_intrinsics(world, width, height)
    with RgbdRenderer(world, width, height) as renderer:
        for index in range(episodes):
            start_episode(world, episode_seed(seed, index), start_noise_rad)
            t_end = world.time_s + episode_s
            while world.time_s < t_end - 1e-9:
                chunk = policy.act(_frame(renderer, intrinsics), world.joint_positions())
                for action in chunk[:actions_per_plan]:
                    world.set_joint_targets(action)
                    world.step(steps_per_action)
            successes += int(world.task_success(tolerance_m))
            finals.append(world.distance_to_goal())
    return EvalResult(episodes, successes, tuple(finals))


def _frame(renderer: RgbdRenderer, intrinsics: Intrinsics) -> Frame:
    """A rendered image as the `SimCamera` would deliver it (depth as uint16 millimetres)."""
    image = renderer.render()
    return Frame(
        color=image.color,
        depth=image.depth_u16(DEPTH_SCALE_M),
        depth_scale_m=DEPTH_SCALE_M,
        intrinsics=intrinsics,
        device_time_ms=image.sim_time_s * 1000.0,
        host_time_ns=0,
        frame_number=0,
    )

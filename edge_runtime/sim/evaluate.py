"""Task success of a bundle's policy in the simulator, fast and deterministic.

The bundle runs in ONNX Runtime in-process against a manual-time `SimWorld`: render, build
the observation exactly as the runtime does (`rgbd_tensor`), run the roles the action output
depends on (following each input's `source`), execute the first actions of the chunk, repeat.
No serial link, no real-time pacing, no threads: this measures the *model*, while `edgerun
demo` measures the runtime. Used for the analytic bundle's test and by the export toolchain
to report FP32 vs INT8 success over the same seeded episodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bundle.reader import Bundle, open_bundle
from edge_runtime.sim.episodes import DEPTH_SCALE_M, episode_seed, start_episode
from edge_runtime.sim.observation import rgbd_tensor
from edge_runtime.sim.render import RgbdRenderer
from edge_runtime.sim.world import JOINT_NAMES, SimWorld


@dataclass(frozen=True)
class EvalResult:
    episodes: int
    successes: int
    final_distance_m: tuple[float, ...]

    @property
    def success_rate(self) -> float:
        return self.successes / max(self.episodes, 1)


class BundlePolicy:
    """The bundle's roles in ONNX Runtime (1 thread each), chained by their input sources."""

    def __init__(self, bundle: Bundle) -> None:
        import onnxruntime as ort

        self.manifest = manifest = bundle.manifest
        if tuple(manifest.action.joint_names) != JOINT_NAMES:
            raise ValueError(
                f"bundle joints {manifest.action.joint_names} are not the simulated arm's "
                f"{JOINT_NAMES}"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.order = self._needed_roles()
        self.sessions = {
            role: ort.InferenceSession(
                str(bundle.path(manifest.roles[role].file)),
                options,
                providers=["CPUExecutionProvider"],
            )
            for role in self.order
        }

    def _needed_roles(self) -> list[str]:
        roles = self.manifest.roles
        order: list[str] = []

        def visit(role: str) -> None:
            if role in order:
                return
            for t in roles[role].inputs:
                head = t.source.split(".", 1)[0]
                if head != "observation":
                    visit(head)
            order.append(role)

        visit(self.manifest.action.output.split(".", 1)[0])
        return order

    def __call__(self, observations: dict[str, np.ndarray]) -> np.ndarray:
        values = dict(observations)
        for role in self.order:
            spec = self.manifest.roles[role]
            feed = {t.name: values[t.source] for t in spec.inputs}
            outs = self.sessions[role].run([t.name for t in spec.outputs], feed)
            values.update({f"{role}.{t.name}": v for t, v in zip(spec.outputs, outs)})
        return values[self.manifest.action.output][0]


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
    policy = BundlePolicy(bundle)
    pre = bundle.manifest.preprocessing
    act = bundle.manifest.action
    height, width = pre.image_size
    world = SimWorld(seed=seed)
    steps_per_action = max(1, round(act.dt_s / world.timestep_s))
    actions_per_plan = max(1, min(act.chunk_length, round(replan_period_s / act.dt_s)))
    successes, finals = 0, []
    with RgbdRenderer(world, width, height) as renderer:
        for index in range(episodes):
            start_episode(world, episode_seed(seed, index), start_noise_rad)
            t_end = world.time_s + episode_s
            while world.time_s < t_end - 1e-9:
                chunk = policy(_observe(renderer, world, pre))
                for action in chunk[:actions_per_plan]:
                    world.set_joint_targets(action)
                    world.step(steps_per_action)
            successes += int(world.task_success(tolerance_m))
            finals.append(world.distance_to_goal())
    return EvalResult(episodes, successes, tuple(finals))


def _observe(renderer: RgbdRenderer, world: SimWorld, pre: Any) -> dict[str, np.ndarray]:
    image = renderer.render()
    # Through the camera's uint16 millimetres, exactly as a `SimCamera` frame arrives.
    depth_m = image.depth_u16(DEPTH_SCALE_M).astype(np.float32) * np.float32(DEPTH_SCALE_M)
    x = rgbd_tensor(image.color, depth_m, pre.rgb_mean, pre.rgb_std, pre.depth_max_m)
    return {
        "observation.rgbd": x,
        "observation.rgb": x[:, :3].copy(),
        "observation.depth": x[:, 3:].copy(),
        "observation.joint_positions": world.joint_positions().astype(np.float32)[None],
    }

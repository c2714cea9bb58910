"""Task success of a bundle's policy in the simulator, fast and deterministic.

The bundle runs in ONNX Runtime in-process against manual-time episodes
(`edge_runtime.sim.episode_runner`): render, run the runtime's own `BundlePolicy` on the
frame, execute the first actions of the chunk, repeat. No serial link, no real-time pacing,
no threads: this measures the *model*, while `edgerun demo` measures the runtime. Used for the
analytic bundle's test and by the export toolchain to report FP32 vs INT8 success over the
same seeded episodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_runtime.bundle.float_variant import float_variant
from edge_runtime.bundle.reader import Bundle, open_bundle
from edge_runtime.errors import BundleError
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.sim.episode_runner import Decision, EpisodeSettings, Observation, run_episodes
from edge_runtime.sim.world import JOINT_NAMES


@dataclass(frozen=True)
class EvalResult:
    episodes: int
    successes: int
    final_distance_m: tuple[float, ...]

    @property
    def success_rate(self) -> float:
        return self.successes / max(self.episodes, 1)


class PolicyController:
    """The bundle's policy alone: one `BundlePolicy.act` per frame (the runtime's default)."""

    def __init__(self, policy: BundlePolicy) -> None:
        self.policy = policy

    def reset(self, episode_seed: int) -> None:
        """The policy keeps no state between frames."""

    def step(self, observation: Observation) -> Decision:
        return Decision(self.policy.act(observation.frame, observation.joint_positions_rad))

    def close(self) -> None:
        self.policy.close()


def open_sim_bundle(
    bundle: str | Path | Bundle,
    development_mode: bool = True,
    trusted_keys: tuple[str, ...] = (),
) -> Bundle:
    """The bundle, refused unless it drives the simulated arm's joints."""
    if not isinstance(bundle, Bundle):
        bundle = open_bundle(bundle, trusted_keys, development_mode=development_mode)
    names = bundle.manifest.action.joint_names
    if tuple(names) != JOINT_NAMES:
        raise BundleError(
            f"bundle joints {tuple(names)} are not the simulated arm's {JOINT_NAMES}; "
            "evaluate a bundle exported for the simulated arm (edgerun export reference)"
        )
    return bundle


@dataclass(frozen=True)
class PolicyFactory:
    """Builds a `PolicyController` for a bundle directory; picklable, so a process pool's
    workers each open their own ONNX Runtime sessions (one intra-op thread each).
    `float_models`: run the bundle's FP32 originals instead (`float_variant`)."""

    bundle_dir: str
    development_mode: bool = True
    trusted_keys: tuple[str, ...] = ()
    float_models: bool = False

    def __call__(self) -> PolicyController:
        bundle = open_sim_bundle(self.bundle_dir, self.development_mode, self.trusted_keys)
        if self.float_models:
            bundle = float_variant(bundle)
        return PolicyController(BundlePolicy(bundle, backend="onnxruntime"))


def bundle_episode_settings(
    bundle: Bundle,
    episode_s: float = 3.0,
    replan_period_s: float = 0.1,
    tolerance_m: float = 0.02,
    start_noise_rad: float = 0.15,
    emulate_control: bool = True,
) -> EpisodeSettings:
    """Episodes at the bundle's image size and action step, replanning every `replan_period_s`.

    `emulate_control`: run the robot's control loop at the bundle's control period
    (`edge_runtime.sim.control_emulation`), so outcomes and surprise scores are what `edgerun
    run` gets; False executes held actions, as the training data did.
    """
    act = bundle.manifest.action
    height, width = bundle.manifest.preprocessing.image_size
    period = bundle.manifest.control_period_s if emulate_control else 0.0
    return EpisodeSettings(
        episode_s=episode_s,
        dt_s=act.dt_s,
        actions_per_step=max(1, min(act.chunk_length, round(replan_period_s / act.dt_s))),
        tolerance_m=tolerance_m,
        start_noise_rad=start_noise_rad,
        width=width,
        height=height,
        control_period_s=period or None,
    )


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
    bundle = open_sim_bundle(bundle, development_mode, trusted_keys)
    settings = bundle_episode_settings(
        bundle, episode_s, replan_period_s, tolerance_m, start_noise_rad
    )
    policy = BundlePolicy(bundle, backend="onnxruntime")
    try:
        outcomes = run_episodes(PolicyController(policy), episodes, seed, settings)
    finally:
        policy.close()
    return EvalResult(
        episodes,
        sum(o.success for o in outcomes),
        tuple(o.final_distance_m for o in outcomes),
    )

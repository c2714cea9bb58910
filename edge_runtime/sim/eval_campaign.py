"""`edgerun eval`: a bundle's closed-loop task success at scale, optionally against its FP32 self.

Output similarity does not predict task success (an INT8 bundle with cosine 0.9999 failed one
pick in ten), so a bundle is judged on the task: seeded simulator episodes
(`edge_runtime.sim.evaluate`), the bundle and its FP32 variant (`float_variant`) on the *same*
episodes so their difference is judged on the pairs (`paired_stats`). Episodes run in chunks of
consecutive indices, in this process, in a local process pool or as Ray tasks
(`perturbation_suite.run_matrix`); an episode's outcome depends only on its seed, so the
per-episode results are identical whatever the worker count or backend.

The JSON: `{"episodes", "variants": {"bundle": {"success", "ci95", ...}, "fp32": {...}},
"paired": {...}, "per_episode": [...], "episodes_per_s", ...}`, success as a fraction.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from edge_runtime.bundle.float_variant import float_variant
from edge_runtime.sim.episode_runner import EpisodeOutcome
from edge_runtime.sim.evaluate import PolicyFactory, bundle_episode_settings, open_sim_bundle
from edge_runtime.sim.paired_stats import compare_paired, wilson_interval
from edge_runtime.sim.perturbation_suite import Outcomes, Run, run_matrix
from edge_runtime.sim.perturbations import perturbation_factory

EVAL_SEED = 2_000_003  # targets neither the reference training (0, 1) nor calibration saw
BUNDLE, FP32 = "bundle", "fp32"


@dataclass(frozen=True)
class Campaign:
    """What to run: `episodes` per perturbation condition and variant."""

    bundle: str
    episodes: int = 200
    compare_fp32: bool = False
    perturbations: tuple[str, ...] = ("nominal",)
    workers: int | None = None  # local processes; None: one per core; 1: in this process
    ray_address: str | None = None  # an existing Ray cluster instead of local processes
    seed: int = EVAL_SEED
    chunk_episodes: int = 10  # episodes per task: fixed, so results never depend on workers
    episode_s: float = 3.0  # simulated time per episode (success = within 2 cm at the end)
    trusted_keys: tuple[str, ...] = ()
    development_mode: bool = False


def run_campaign(
    campaign: Campaign, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Run every episode of every variant; the JSON described in the module docstring."""
    for name in campaign.perturbations:
        perturbation_factory(name)  # an unknown name fails before any work starts
    bundle = open_sim_bundle(campaign.bundle, campaign.development_mode, campaign.trusted_keys)
    if campaign.compare_fp32:
        float_variant(bundle)  # a bundle without FP32 originals is refused up front
    factories = {
        BUNDLE: PolicyFactory(
            str(campaign.bundle), campaign.development_mode, tuple(campaign.trusted_keys)
        )
    }
    if campaign.compare_fp32:
        factories[FP32] = replace(factories[BUNDLE], float_models=True)
    runs = [Run(v, c, campaign.episodes) for c in campaign.perturbations for v in factories]
    workers = campaign.workers or os.cpu_count() or 1
    started = time.perf_counter()
    outcomes = run_matrix(
        factories,
        runs,
        campaign.seed,
        bundle_episode_settings(bundle, episode_s=campaign.episode_s),
        workers=workers,
        chunk_episodes=campaign.chunk_episodes,
        progress=progress,
        ray_address=campaign.ray_address,
    )
    seconds = time.perf_counter() - started
    result = summarize(outcomes, campaign.perturbations)
    total = sum(len(v) for per in outcomes.values() for v in per.values())
    result.update(
        bundle=str(campaign.bundle),
        seed=campaign.seed,
        workers=None if campaign.ray_address else workers,
        ray=campaign.ray_address,
        seconds=round(seconds, 2),
        episodes_per_s=round(total / seconds, 2) if seconds > 0 else None,
    )
    return result


def summarize(outcomes: Outcomes, conditions: Sequence[str]) -> dict[str, Any]:
    """Success with 95% intervals per variant, the paired comparison, and every episode."""
    pooled = {v: [o for c in conditions for o in per[c]] for v, per in outcomes.items()}
    result = _rates(pooled)
    result["perturbations"] = list(conditions)
    if len(conditions) > 1:
        result["conditions"] = {
            c: _rates({v: per[c] for v, per in outcomes.items()}) for c in conditions
        }
    result["per_episode"] = [
        {
            "index": first.index,
            "seed": first.seed,
            "perturbation": first.perturbation,
            **{v: _episode(pooled[v][i]) for v in pooled},
        }
        for i, first in enumerate(next(iter(pooled.values())))
    ]
    return result


def _rates(by_variant: Mapping[str, Sequence[EpisodeOutcome]]) -> dict[str, Any]:
    variants = {}
    for name, episodes in by_variant.items():
        successes = sum(o.success for o in episodes)
        low, high = wilson_interval(successes, len(episodes))
        variants[name] = {
            "success": successes / len(episodes) if episodes else 0.0,
            "ci95": [low, high],
            "successes": successes,
            "episodes": len(episodes),
        }
    count = len(next(iter(by_variant.values()), ()))
    result: dict[str, Any] = {"episodes": count, "variants": variants, "paired": None}
    if FP32 in by_variant and BUNDLE in by_variant:
        pair = compare_paired(
            [o.success for o in by_variant[FP32]], [o.success for o in by_variant[BUNDLE]]
        )
        result["paired"] = {
            "difference": pair.difference,  # bundle - fp32, as a fraction
            "ci95": list(pair.ci95_difference),
            "mcnemar_p": pair.mcnemar_p,
            "only_bundle": pair.only_second,
            "only_fp32": pair.only_first,
        }
    return result


def _episode(outcome: EpisodeOutcome) -> dict[str, Any]:
    return {"success": outcome.success, "final_distance_m": round(outcome.final_distance_m, 6)}

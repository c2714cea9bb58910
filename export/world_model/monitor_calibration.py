"""Surprise-monitor thresholds by split-conformal calibration on nominal closed-loop episodes.

The exported bundle drives the simulated arm with its own policy (`BundlePolicy`, the runtime's
code) for `episodes` fresh seeded episodes that no training, INT8 calibration or evaluation saw.
At every frame the bundle's predictor says where the latent and the joints should be, given
the previous frame's latent and joints and the targets actually commanded since
(`Observation.executed_rad`); `edge_runtime.world_model.surprise` scores the difference, exactly
as the runtime's monitor will.

Thresholds: the monitor alarms when EITHER debounced channel exceeds its threshold, so the
event to calibrate is the union. Each channel is divided by a scale from held-out
demonstrations (disjoint from these episodes), and each episode contributes one value, the
larger of its two normalised per-episode maxima; the conformal quantile t of those values at
alpha gives thresholds (t * latent scale, t * joint scale). A new nominal episode then raises
an alarm (score strictly above threshold) with probability <= alpha (warn: alpha_warn; stop:
alpha_stop), which needs at least 1/alpha - 1 episodes (199 for 0.5%).

Episodes run in worker processes (rendering is most of the cost and runs on one core each);
the result does not depend on the worker count.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge_runtime.bundle.world_model import MonitorCalibration, MonitorSpec, Thresholds
from edge_runtime.ipc.lifetime import die_with_parent
from edge_runtime.sim.episode_runner import Decision, EpisodeSettings, Observation
from edge_runtime.world_model.monitor import MonitorSettings as RuntimeMonitorSettings
from edge_runtime.world_model.monitor import SurpriseMonitor
from edge_runtime.world_model.relight import Relighter
from edge_runtime.world_model.surprise import (
    conformal_threshold,
    debounce,
    minimum_calibration_count,
)

MONITOR_SEED = 3_000_017  # unseen by training (0, 1), calibration (1000003), evaluation (2000003)
METHOD = (
    "split conformal, per-episode max of the debounced score; the union of both channels, "
    "each divided by its held-out 95th percentile"
)
BLOCK_EPISODES = 25


@dataclass(frozen=True)
class MonitorSettings:
    # 600 nominal episodes put the stop threshold at the 3rd largest of 600 per-episode maxima
    # (alpha 0.5%). With 200 it was the largest of 200, which for these heavy-tailed latent
    # spikes came out low: 4 of 200 unseen nominal episodes crossed it (2%, measured).
    episodes: int = 600
    episode_s: float = 3.0
    seed: int = MONITOR_SEED
    alpha_warn: float = 0.05
    alpha_stop: float = 0.005
    # One step: a lasting change (a bumped camera) shows as one surprising frame, which a
    # longer debounce would hide; the thresholds below account for single-frame noise.
    debounce_steps: int = 1
    horizon_steps: int = 1
    relight: bool = True  # colour constancy before scoring (edge_runtime.world_model.relight)
    workers: int | None = None  # default: one per core, at most 2


@dataclass(frozen=True)
class Scoring:
    """How the runtime's monitor will score frames: what a calibration worker needs."""

    latent_scale: tuple[float, ...]
    step_s: float
    horizon_steps: int
    relight: bool


@dataclass(frozen=True)
class MonitorResult:
    spec: MonitorSpec
    episode_max_latent: np.ndarray  # (episodes,) per-episode max of the debounced latent score
    episode_max_joints_rad: np.ndarray
    successes: int  # nominal task successes of the bundle's policy over these episodes
    seconds: float


class ScoringController:
    """Acts with the bundle's policy and scores every frame with the runtime's own monitor.

    The monitor runs with thresholds it can never reach, so it never stops an episode; its
    per-frame scores are what the thresholds are then calibrated on, computed by exactly the
    code (horizon, relighting, debouncing) that will judge the robot's frames.
    """

    def __init__(self, bundle_path: str, predictor_role: str, watch: Scoring):
        from edge_runtime.bundle.reader import open_bundle
        from edge_runtime.pipeline.policy import BundlePolicy

        # The exporter's own unsigned draft: the reader's "unsigned" warning would be noise.
        reader_log = logging.getLogger("edge_runtime.bundle.reader")
        level = reader_log.level
        reader_log.setLevel(logging.ERROR)
        try:
            bundle = open_bundle(bundle_path, development_mode=True)
        finally:
            reader_log.setLevel(level)
        extra = (predictor_role, *(("encoder",) if watch.relight else ()))
        self.policy = BundlePolicy(bundle, backend="onnxruntime", extra_roles=extra)
        relighter = None
        if watch.relight:
            encoder = self.policy.engines["encoder"]
            relighter = Relighter("encoder", encoder, bundle.manifest.roles["encoder"])
        self.monitor = SurpriseMonitor(
            self.policy.engines[predictor_role],
            bundle.manifest.roles[predictor_role],
            runtime_settings(watch),
            relighter,
        )
        self.latent_scores: list[float] = []
        self.joint_scores: list[float] = []

    def reset(self, episode_seed: int) -> None:
        self.monitor.reset()
        self.latent_scores, self.joint_scores = [], []

    def step(self, observation: Observation) -> Decision:
        chunk, values = self.policy.act_with_values(
            observation.frame, observation.joint_positions_rad
        )
        verdict = self.monitor.observe(
            round(observation.time_s * 1e9),
            values,
            observation.executed_rad,
            observation.joints_at_step_rad,
        )
        if verdict.level != "none":
            self.latent_scores.append(verdict.latent)
            self.joint_scores.append(verdict.joints_rad)
        return Decision(chunk)

    def close(self) -> None:
        self.policy.close()


def runtime_settings(watch: Scoring) -> RuntimeMonitorSettings:
    """The runtime monitor's settings with thresholds it cannot reach (scores only)."""
    never = float("inf")
    return RuntimeMonitorSettings(
        latent_scale=np.asarray(watch.latent_scale, float),
        debounce_steps=1,
        warn_latent=never,
        warn_joints_rad=never,
        stop_latent=never,
        stop_joints_rad=never,
        step_s=watch.step_s,
        horizon_steps=watch.horizon_steps,
    )


def _score_block(
    job: tuple[str, str, tuple[float, ...], int, int, int, EpisodeSettings],
) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """(latent scores, joint scores, success) of episodes first .. first + count - 1."""
    from edge_runtime.sim.episode_runner import run_episodes

    bundle_path, role, watch, seed, first, count, settings = job
    scorer = ScoringController(bundle_path, role, watch)
    results = []
    try:

        def keep(_done: int, _total: int) -> None:
            results.append((np.array(scorer.latent_scores), np.array(scorer.joint_scores), False))

        outcomes = run_episodes(
            scorer, count, seed, settings, indices=range(first, first + count), progress=keep
        )
    finally:
        scorer.close()
    return [(lat, jnt, o.success) for (lat, jnt, _), o in zip(results, outcomes)]


def calibrate_monitor(
    bundle_path: Path,
    predictor_role: str,
    latent_scale: Sequence[float],
    channel_scale: tuple[float, float],
    episode_settings: EpisodeSettings,
    settings: MonitorSettings | None = None,
    echo: Callable[[str], None] = lambda _msg: None,
) -> MonitorResult:
    """Run the nominal episodes and turn their debounced surprise into thresholds."""
    settings = settings or MonitorSettings()
    needed = minimum_calibration_count(settings.alpha_stop)
    if settings.episodes < needed:
        raise ValueError(
            f"{settings.episodes} monitor calibration episodes cannot calibrate alpha_stop = "
            f"{settings.alpha_stop}; run at least {needed}"
        )
    started = time.monotonic()
    run_settings = replace(episode_settings, episode_s=settings.episode_s)
    watch = Scoring(
        tuple(float(v) for v in latent_scale),
        episode_settings.dt_s * episode_settings.actions_per_step,
        settings.horizon_steps,
        settings.relight,
    )
    jobs = [
        (str(bundle_path), predictor_role, watch, settings.seed, first,
         min(BLOCK_EPISODES, settings.episodes - first), run_settings)
        for first in range(0, settings.episodes, BLOCK_EPISODES)
    ]  # fmt: skip
    workers = settings.workers or min(2, os.cpu_count() or 1)
    scored: list[tuple[np.ndarray, np.ndarray, bool]] = []
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            scored.extend(_score_block(job))
            echo(f"  monitor calibration: {len(scored)}/{settings.episodes} episodes")
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
        with ProcessPoolExecutor(workers, context, initializer=die_with_parent) as pool:
            for block in pool.map(_score_block, jobs):
                scored.extend(block)
                echo(f"  monitor calibration: {len(scored)}/{settings.episodes} episodes")
    steps = settings.debounce_steps
    max_latent = np.array([debounce(lat, steps).max() if len(lat) else 0.0 for lat, _, _ in scored])
    max_joint = np.array([debounce(jnt, steps).max() if len(jnt) else 0.0 for _, jnt, _ in scored])
    s_latent, s_joint = channel_scale
    union = np.maximum(max_latent / s_latent, max_joint / s_joint)
    t_warn = conformal_threshold(union, settings.alpha_warn)
    t_stop = conformal_threshold(union, settings.alpha_stop)
    spec = MonitorSpec(
        latent_scale=tuple(float(s) for s in latent_scale),
        debounce_steps=steps,
        warn=Thresholds(latent=t_warn * s_latent, joints_rad=t_warn * s_joint),
        stop=Thresholds(latent=t_stop * s_latent, joints_rad=t_stop * s_joint),
        alpha_warn=settings.alpha_warn,
        alpha_stop=settings.alpha_stop,
        horizon_steps=settings.horizon_steps,
        relight=settings.relight,
        calibration=MonitorCalibration(
            episodes=settings.episodes,
            episode_s=settings.episode_s,
            seed=settings.seed,
            method=METHOD,
        ),
    )
    return MonitorResult(
        spec,
        max_latent,
        max_joint,
        sum(int(ok) for _, _, ok in scored),
        time.monotonic() - started,
    )

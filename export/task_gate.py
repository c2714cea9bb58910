"""The task-level gate: the candidate bundle against its FP32 originals, in closed loop.

The accuracy gate compares outputs; it passed an INT8 reference bundle (cosine 0.9999, action
error 0.5%) that succeeded in 89% of simulator episodes against FP32's 99%. So a bundle for the
simulated arm is also run closed loop: the staged bundle and its FP32 variant on the *same*
seeded episodes (`edge_runtime.sim.eval_campaign`), success with 95% Wilson intervals, and a
paired verdict. The bundle is refused (exit 3, reports only) when it is significantly worse
than FP32 (McNemar's exact test, two-sided, at `alpha`) or its success is more than
`max_drop_points` below FP32's. Bundles for other robots, bundles reading a named camera
(the episodes render only the scene camera) and bundles with nothing quantized skip it.

    [task_gate]
    episodes = 200        # paired episodes per variant; 0 turns the gate off
    max_drop_points = 2.0 # refuse a bundle more than this many points below FP32
    alpha = 0.05          # refuse a bundle significantly worse than FP32 at this level
    seed = 2000003        # episode seed (targets the reference training never saw)
    workers = 0           # local processes; 0: one per core
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_runtime.fields import Section
from export.errors import ExportError

# Sized for the reference task: with 200 paired episodes a 10-point drop (the INT8 bundle of
# docs/perf/models.md) is significant, and a 2-point threshold is 4 episodes. The test suite
# shrinks these two (tests/conftest.py) so exports in tests stay fast.
DEFAULT_EPISODES = 200
DEFAULT_WORKERS = 0


@dataclass(frozen=True)
class TaskGateSettings:
    episodes: int | None = None  # None: DEFAULT_EPISODES
    max_drop_points: float = 2.0
    alpha: float = 0.05
    seed: int | None = None  # None: edge_runtime.sim.eval_campaign.EVAL_SEED
    workers: int | None = None  # None: DEFAULT_WORKERS; 0: one per core

    def episode_count(self) -> int:
        return DEFAULT_EPISODES if self.episodes is None else self.episodes


def parse_task_gate(data: dict[str, Any], where: str) -> TaskGateSettings:
    """The `[task_gate]` table (all keys optional)."""
    sec = Section(data, "task_gate", where, error=ExportError)
    settings = TaskGateSettings(
        episodes=sec.integer("episodes", default=None, minimum=0)
        if "episodes" in sec.data
        else None,
        max_drop_points=sec.number("max_drop_points", default=2.0, minimum=0, maximum=100),
        alpha=sec.number("alpha", default=0.05, positive=True, maximum=0.5),
        seed=sec.integer("seed", default=0, minimum=0) if "seed" in sec.data else None,
        workers=sec.integer("workers", default=0, minimum=0) if "workers" in sec.data else None,
    )
    sec.done()
    return settings


@dataclass
class TaskGateOutcome:
    """What the gate measured (`result`: the `edgerun eval` JSON) and why it refused, if so."""

    result: dict[str, Any]
    settings: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    skipped: str = ""  # why the gate did not run ("" when it ran)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> dict[str, Any]:
        """What goes into reports/accuracy.json (per-episode results stay in task.json)."""
        if self.skipped:
            return {"skipped": self.skipped, "passed": True}
        keys = ("episodes", "variants", "paired", "seed", "seconds", "episodes_per_s")
        return {
            "passed": self.passed,
            "failures": self.failures,
            "thresholds": self.settings,
            **{k: self.result.get(k) for k in keys},
        }


def run_task_gate(stage: Path, settings: TaskGateSettings) -> TaskGateOutcome:
    """Judge the loadable bundle at `stage` against its FP32 variant; write stage/reports/."""
    from edge_runtime.bundle.manifest import camera_names
    from edge_runtime.bundle.reader import open_bundle
    from edge_runtime.sim.eval_report import plot_eval
    from edge_runtime.sim.world import JOINT_NAMES

    manifest = open_bundle(stage, development_mode=True).manifest
    thresholds = {"max_drop_points": settings.max_drop_points, "alpha": settings.alpha}
    episodes = settings.episode_count()
    if episodes == 0:
        return _skipped("[task_gate] episodes = 0", thresholds)
    if tuple(manifest.action.joint_names) != JOINT_NAMES:
        return _skipped("the bundle does not drive the simulated arm", thresholds)
    cameras = camera_names(t.source for spec in manifest.roles.values() for t in spec.inputs)
    if cameras:  # the evaluation episodes render the one scene camera
        return _skipped(f"the bundle reads named cameras {sorted(cameras)}", thresholds)
    if all(spec.precision == "fp32" for spec in manifest.roles.values()):
        return _skipped("every role is FP32: nothing to compare", thresholds)
    result = _evaluate(stage, settings, episodes)
    outcome = TaskGateOutcome(result, thresholds, judge(result["paired"], settings))
    reports = stage / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "task.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    plot_eval(result, str(reports / "task.png"))
    return outcome


def judge(paired: dict[str, Any], settings: TaskGateSettings) -> list[str]:
    """The gate's reasons to refuse, one sentence each ([] passes)."""
    drop_points = -100 * paired["difference"]
    failures = []
    if paired["difference"] < 0 and paired["mcnemar_p"] < settings.alpha:
        failures.append(
            f"task success is significantly below FP32 ({drop_points:.1f} points, McNemar "
            f"p = {paired['mcnemar_p']:.3g} < {settings.alpha})"
        )
    if drop_points > settings.max_drop_points + 1e-9:
        failures.append(
            f"task success is {drop_points:.1f} points below FP32 "
            f"(> [task_gate] max_drop_points = {settings.max_drop_points:g})"
        )
    return failures


def _evaluate(stage: Path, settings: TaskGateSettings, episodes: int) -> dict[str, Any]:
    from edge_runtime.bench.report import print_table
    from edge_runtime.sim.eval_campaign import EVAL_SEED, Campaign, run_campaign
    from edge_runtime.sim.eval_report import COLUMNS, progress_bar, result_rows

    workers = DEFAULT_WORKERS if settings.workers is None else settings.workers
    campaign = Campaign(
        str(stage),
        episodes,
        compare_fp32=True,
        workers=workers or None,
        seed=EVAL_SEED if settings.seed is None else settings.seed,
        development_mode=True,  # the staged bundle is signed only once it has passed
    )
    with progress_bar("task gate episodes") as progress:
        result = run_campaign(campaign, progress)
    print_table("task gate: candidate vs FP32, paired episodes", result_rows(result), COLUMNS)
    return result


def _skipped(why: str, thresholds: dict[str, Any]) -> TaskGateOutcome:
    return TaskGateOutcome({}, thresholds, skipped=why)

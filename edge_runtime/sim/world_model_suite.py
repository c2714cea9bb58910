"""The world-model benchmark's measurements: planner vs policy, and the surprise monitor.

* planner: every condition runs the policy alone and the policy + planner on the same seeded
  episodes; each condition reports both success rates with Wilson intervals and the paired
  difference (Newcombe interval, exact McNemar p).
* monitor: the monitoring controller runs `nominal_monitor_episodes` nominal episodes (any
  stop is false) and every fault condition (a stop within `deadline_s` of the onset is a
  detection, a stop before it is false); `lighting` is reported too and should never stop.

The JSON-ready dict is what `edgerun bench world-model --json` writes; leave a controller out
(None) to measure only the others, e.g. the policy's baseline.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from edge_runtime.sim.episode_runner import EpisodeOutcome, EpisodeSettings
from edge_runtime.sim.paired_stats import compare_paired, detection_summary, wilson_interval
from edge_runtime.sim.perturbation_suite import ControllerFactory, Outcomes, Run, run_matrix
from edge_runtime.sim.perturbations import CONDITION_NAMES, PERTURBED_NAMES, is_fault

POLICY, PLANNER, MONITOR = "policy", "planner", "monitor"
# Targets no model has seen: training collects seed 0, the exporter calibrates INT8 on
# 1_000_003 and reports success on 2_000_003 (export.reference.bundle).
SUITE_SEED = 3_000_003


def run_world_model_suite(
    policy: ControllerFactory,
    planner: ControllerFactory | None = None,
    monitor: ControllerFactory | None = None,
    conditions: Sequence[str] = CONDITION_NAMES,
    faults: Sequence[str] = PERTURBED_NAMES,
    episodes: int = 100,
    nominal_monitor_episodes: int = 200,
    seed: int = SUITE_SEED,
    settings: EpisodeSettings | None = None,
    workers: int = 1,
    deadline_s: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark's episodes (see the module docstring) and summarise them."""
    settings = settings or EpisodeSettings()
    controllers = {POLICY: policy}
    runs = [Run(POLICY, c, episodes) for c in conditions]
    if planner is not None:
        controllers[PLANNER] = planner
        runs += [Run(PLANNER, c, episodes) for c in conditions]
    if monitor is not None:
        controllers[MONITOR] = monitor
        runs.append(Run(MONITOR, "nominal", nominal_monitor_episodes))
        runs += [Run(MONITOR, f, episodes) for f in faults if f != "nominal"]
    outcomes = run_matrix(controllers, runs, seed, settings, workers, progress=progress)
    return {
        "seed": seed,
        "settings": asdict(settings),
        "planner": planner_section(outcomes, conditions),
        "monitor": monitor_section(outcomes[MONITOR], deadline_s) if monitor else None,
    }


def planner_section(outcomes: Outcomes, conditions: Sequence[str]) -> dict[str, Any]:
    """Per condition: policy and planner success, intervals and their paired difference."""
    rows = []
    for name in conditions:
        policy = outcomes[POLICY][name]
        planner = outcomes.get(PLANNER, {}).get(name)
        row: dict[str, Any] = {"name": name, "episodes": len(policy), "is_fault": is_fault(name)}
        row.update(_success("policy", policy))
        row.update(_success("planner", planner))
        if planner is not None:
            paired = compare_paired([o.success for o in policy], [o.success for o in planner])
            row.update(
                difference=paired.difference,
                ci95_difference=list(paired.ci95_difference),
                mcnemar_p=paired.mcnemar_p,
                only_policy=paired.only_first,
                only_planner=paired.only_second,
            )
        rows.append(row)
    return {"conditions": rows}


def _success(label: str, outcomes: list[EpisodeOutcome] | None) -> dict[str, Any]:
    if outcomes is None:
        return {f"success_{label}": None, f"ci95_{label}": None}
    wins = sum(o.success for o in outcomes)
    return {
        f"success_{label}": wins / len(outcomes) if outcomes else None,
        f"ci95_{label}": list(wilson_interval(wins, len(outcomes))),
        f"final_distance_m_p50_{label}": (
            statistics.median(o.final_distance_m for o in outcomes) if outcomes else None
        ),
    }


def monitor_section(by_condition: dict[str, list[EpisodeOutcome]], deadline_s: float) -> dict:
    """False stops and warnings on nominal episodes; detection rate and delay per fault."""
    nominal = detection_summary(by_condition.get("nominal", []), deadline_s)
    faults = []
    for name, outcomes in by_condition.items():
        if name == "nominal":
            continue
        summary = detection_summary(outcomes, deadline_s)
        faults.append(
            {
                "name": name,
                "expects_stop": is_fault(name),
                "episodes": summary.episodes,
                "detection_rate": summary.detection_rate,
                "delay_s_p50": summary.delay_s_p50,
                "delay_s_p90": summary.delay_s_p90,
                "stopped_after_onset_rate": summary.stopped_after_onset_rate,
                "false_stop_rate": summary.false_stop_rate,
                "warn_rate": summary.warn_rate,
            }
        )
    return {
        "deadline_s": deadline_s,
        "episodes_nominal": nominal.episodes,
        "false_stop_rate_nominal": nominal.false_stop_rate,
        "false_warn_rate_nominal": nominal.warn_rate,
        "faults": faults,
    }

"""Conditions x controllers: a process pool gives the serial result; the benchmark's JSON."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.sim.episode_runner import Decision, EpisodeSettings, Observation
from edge_runtime.sim.expert import ramp_chunk
from edge_runtime.sim.perturbation_suite import Run, run_matrix
from edge_runtime.sim.world_model_suite import run_world_model_suite

SETTINGS = EpisodeSettings(episode_s=0.6, width=64, height=48)
HOME = np.array([0.0, -0.2, 1.7, 1.0])


class Reach:
    """Ramps toward a pose that depends on the image's brightness, so pixels matter.

    Module-level and plain, so the spawned pool workers can unpickle it.
    """

    def __init__(self, gain: float = 0.3) -> None:
        self.gain = gain

    def reset(self, episode_seed: int) -> None:
        """Stateless."""

    def step(self, observation: Observation) -> Decision:
        shade = float(observation.frame.color.mean()) / 255.0
        goal = HOME + np.array([self.gain * shade, 0.3, -0.4, 0.1])
        return Decision(ramp_chunk(observation.joint_positions_rad, goal, 16, 0.02, 1.0))


class StopAt(Reach):
    """A stand-in monitor: warns 0.1 s before `stop_s`, stops at it."""

    def __init__(self, stop_s: float) -> None:
        super().__init__()
        self.stop_s = stop_s

    def step(self, observation: Observation) -> Decision:
        decision = super().step(observation)
        events = (("world_model_warn", "test"),) if observation.time_s >= self.stop_s - 0.1 else ()
        return Decision(decision.actions_rad, observation.time_s >= self.stop_s - 1e-9, events)


class Slower(Reach):
    def __init__(self) -> None:
        super().__init__(gain=0.15)


def test_a_process_pool_returns_exactly_the_serial_outcomes() -> None:
    controllers = {"a": Reach, "b": Slower}
    runs = [Run(c, k, 2) for c in ("a", "b") for k in ("lighting", "blocked_joint")]
    seen: list[tuple[int, int]] = []
    serial = run_matrix(controllers, runs, seed=2, settings=SETTINGS, chunk_episodes=1)
    pooled = run_matrix(
        controllers,
        runs,
        seed=2,
        settings=SETTINGS,
        workers=2,
        chunk_episodes=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert pooled == serial
    assert [o.index for o in pooled["b"]["lighting"]] == [0, 1]
    assert seen[-1] == (8, 8)
    a, b = serial["a"]["blocked_joint"], serial["b"]["blocked_joint"]
    assert [o.seed for o in a] == [o.seed for o in b]  # paired episodes
    assert [o.final_distance_m for o in a] != [o.final_distance_m for o in b]


def test_unknown_conditions_fail_before_any_episode() -> None:
    with pytest.raises(EdgeRuntimeError, match="unknown perturbation condition 'fog'"):
        run_matrix({"a": Reach}, [Run("a", "fog", 2)], settings=SETTINGS)


def test_the_suite_returns_the_benchmark_structure() -> None:
    report = run_world_model_suite(
        policy=Reach,
        planner=Slower,
        monitor=functools.partial(StopAt, 0.4),
        conditions=("nominal", "blocked_joint"),
        faults=("blocked_joint", "lighting"),
        episodes=2,
        nominal_monitor_episodes=3,
        seed=1,
        settings=SETTINGS,
    )
    json.dumps(report)  # JSON-ready as it is
    rows = {row["name"]: row for row in report["planner"]["conditions"]}
    assert set(rows) == {"nominal", "blocked_joint"}
    for row in rows.values():
        assert row["episodes"] == 2
        for key in ("success_policy", "success_planner", "difference", "mcnemar_p"):
            assert 0.0 <= abs(row[key]) <= 1.0
        lo, hi = row["ci95_policy"]
        assert 0.0 <= lo <= row["success_policy"] <= hi <= 1.0
    monitor = report["monitor"]
    assert monitor["episodes_nominal"] == 3
    assert monitor["false_stop_rate_nominal"] == 1.0  # it stops at 0.4 s whatever happens
    assert monitor["false_warn_rate_nominal"] == 1.0
    faults = {f["name"]: f for f in monitor["faults"]}
    assert set(faults) == {"blocked_joint", "lighting"}
    assert faults["lighting"]["expects_stop"] is False
    blocked = faults["blocked_joint"]
    # Onsets are in 0.2-0.5 s: a stop at 0.4 s detects those before it, falsely stops the rest.
    assert blocked["detection_rate"] + blocked["false_stop_rate"] == pytest.approx(1.0)
    baseline = run_world_model_suite(
        Reach, conditions=("nominal",), episodes=2, settings=SETTINGS, faults=()
    )
    assert baseline["monitor"] is None
    assert baseline["planner"]["conditions"][0]["success_planner"] is None

"""Each fault of `edgerun bench faults`, once, through the campaign's own runner.

One simulated arm (its servos are the witness) serves the module; every fault starts a fresh
runtime in its own process, injects the fault after it armed, and is judged from outside:
no unsafe command reached a servo, the outcome is one the catalog expects, torque is off on
every servo at the end, and nothing (process, /dev/shm entry) outlived the run. Latencies
are the benchmark's business (docs/perf/faults.md): nothing here asserts a time.

Every run costs a spawn, imports and a model warm-up: the faults beyond one of each kind
(a device, the model, a signal) are marked slow.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.bench.faults import Campaign, run_started
from edge_runtime.bench.faults_catalog import FAULT_NAMES, STOPPED, fault_named
from edge_runtime.bench.faults_judge import JointLimits, judge_witness
from edge_runtime.drive import demo_config
from edge_runtime.sim.analytic_bundle import write_analytic_bundle
from firmware_bridge.dynamixel.control_table import CENTER_TICKS, RAD_PER_TICK

QUICK = ("servo_silent", "inference_exception", "sigkill_control")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campaign]:
    work = tmp_path_factory.mktemp("faults")
    # Fewer fitting samples than the demo's bundle: the faults do not judge the task.
    bundle = write_analytic_bundle(work / "analytic-bundle", seed=0, samples=100)
    campaign = Campaign(demo_config(), bundle, work, duration_s=2.5)
    try:
        campaign.start_rig()
        yield campaign
    finally:
        campaign.close()


def _params() -> list[object]:
    return [
        pytest.param(name, marks=() if name in QUICK else pytest.mark.slow) for name in FAULT_NAMES
    ]


@pytest.mark.parametrize("name", _params())
def test_fault_is_survived_or_stopped_safely(campaign: Campaign, name: str) -> None:
    fault = fault_named(name)
    skipped = campaign.prepare(fault)
    if skipped:
        pytest.skip(f"{name} cannot run here: {skipped}")
    run = run_started(campaign, fault, random.Random(FAULT_NAMES.index(name)), 0)
    if run["outcome"] == STOPPED and STOPPED not in fault.expected:
        # A survivable fault on a starved machine may still end in a safety stop (state or
        # observation bad for the hold timeout): safe, and the bench counts it against the
        # fault; anything else (a fault, a crash) fails here.
        assert run["stop_reason"].startswith("safety stop"), run
    else:
        assert run["outcome"] in fault.expected, run
    assert run["unsafe_commands"] == 0, run["unsafe_examples"]
    if run["outcome"] == STOPPED:
        # Every servo stopped and stayed stopped: torque off, or held by its own bus watchdog
        # (a silent servo, an unplugged adapter: nothing reaches it any more).
        assert "torque_off_periods" in run, run
    else:
        assert not any(campaign.rig.torque_enabled()), "torque still on after the run ended"
    assert run["records_lost"] == 0, run["log_problems"]
    assert run["leftover_processes"] == 0
    assert run["leftover_shm"] == 0


def test_unknown_fault_is_one_sentence() -> None:
    from edge_runtime.bench.faults import run_bench
    from edge_runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown fault 'gremlins'; choose from"):
        run_bench(names=["gremlins"])


def test_log_loss_counts_only_holes_before_the_last_record(tmp_path: Path) -> None:
    from edge_runtime.bench.faults_judge import log_loss

    loss = log_loss(tmp_path / "missing")
    assert loss.records_lost == 0
    assert loss.error  # no log at all is said, not counted as records


def _limits() -> JointLimits:
    one = np.array([1.0])
    return JointLimits(lower_rad=-one, upper_rad=one, max_step_rad=0.01 * one, period_ns=10**7)


def _goal(rad: float) -> int:
    return round(rad / RAD_PER_TICK + CENTER_TICKS)


def test_judge_counts_a_jump_while_driving_not_while_held() -> None:
    ms = 10**6
    entries = [
        (0, 1, "torque", 1),
        (10 * ms, 1, "goal", _goal(0.0)),
        (20 * ms, 1, "goal", _goal(0.2)),  # 0.2 rad in one period: 20x the step limit
        (30 * ms, 1, "watchdog", 1),
        (40 * ms, 1, "goal", _goal(0.9)),  # held by its watchdog: the goal moves nothing
        (50 * ms, 1, "torque", 0),
    ]
    verdict = judge_witness(entries, [1], _limits())
    assert verdict.unsafe_commands == 1
    assert verdict.stopped_ns == 30 * ms
    assert verdict.driving_at_end == ()


def test_judge_flags_a_servo_left_driving() -> None:
    entries = [(0, 1, "torque", 1), (10**7, 1, "goal", _goal(0.005))]
    verdict = judge_witness(entries, [1], _limits())
    assert verdict.unsafe_commands == 0
    assert verdict.driving_at_end == (1,)
    assert verdict.stopped_ns is None


def test_plot_with_faults_that_never_stopped(tmp_path: Path) -> None:
    from edge_runtime.bench.faults_plot import plot_faults

    survived = {"name": "disk_full", "outcomes": {"survived": 1}, "runs": [{"outcome": "x"}]}
    stopped = {
        "name": "sigterm",
        "outcomes": {"stopped safely": 1},
        "runs": [{"torque_off_periods": 0.5, "torque_off_periods_from_injection": 0.5}],
    }
    assert plot_faults({"faults": [survived, stopped]}, tmp_path / "f.png").is_file()

"""Paired statistics against published values and hand-computed cases."""

from __future__ import annotations

import math

import pytest

from edge_runtime.sim.episode_runner import EpisodeOutcome
from edge_runtime.sim.paired_stats import (
    compare_paired,
    detection_summary,
    mcnemar_exact_p,
    wilson_interval,
)


def test_wilson_interval_matches_the_closed_form() -> None:
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)
    assert wilson_interval(100, 100) == pytest.approx((100 / (100 + 1.96**2), 1.0), abs=1e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_mcnemar_exact_is_a_binomial_test_of_the_discordant_pairs() -> None:
    # 2 * P(X <= 6 | 22, 1/2) = 2 * (1 + 22 + 231 + 1540 + 7315 + 26334 + 74613) / 2**22
    assert mcnemar_exact_p(6, 16) == pytest.approx(2 * 110056 / 2**22)
    assert mcnemar_exact_p(16, 6) == mcnemar_exact_p(6, 16)
    assert mcnemar_exact_p(0, 10) == pytest.approx(2 / 2**10)
    assert mcnemar_exact_p(4, 4) == 1.0
    assert mcnemar_exact_p(0, 0) == 1.0


def pairs(both: int, only_first: int, only_second: int, neither: int):  # type: ignore[no-untyped-def]
    first = [True] * both + [True] * only_first + [False] * only_second + [False] * neither
    second = [True] * both + [False] * only_first + [True] * only_second + [False] * neither
    return first, second


def test_paired_difference_matches_newcombe_square_and_add() -> None:
    # Cavo et al. 2012 as analysed in Fagerland, Lydersen & Laake, "Statistical Analysis of
    # Contingency Tables", ch. 8: estimate -0.0621, 95% CI -0.1186 to -0.0046.
    comparison = compare_paired(*pairs(both=59, only_first=16, only_second=6, neither=80))
    assert comparison.episodes == 161
    assert comparison.difference == pytest.approx(-0.0621, abs=5e-5)
    assert comparison.ci95_difference == pytest.approx((-0.1186, -0.0046), abs=5e-5)
    assert comparison.mcnemar_p == pytest.approx(mcnemar_exact_p(16, 6))
    assert (comparison.only_first, comparison.only_second) == (16, 6)


def test_paired_difference_is_zero_centred_for_identical_controllers() -> None:
    comparison = compare_paired(*pairs(both=70, only_first=0, only_second=0, neither=30))
    assert comparison.difference == 0.0
    low, high = comparison.ci95_difference
    assert low < 0.0 < high
    assert comparison.mcnemar_p == 1.0
    assert compare_paired([], []).ci95_difference == (-1.0, 1.0)
    with pytest.raises(ValueError, match="differ in length"):
        compare_paired([True], [True, False])


def outcome(stopped_at_s: float | None, onset_s: float | None, warn: bool = False):  # type: ignore[no-untyped-def]
    events = ((0.1, "world_model_warn", "x"),) if warn else ()
    return EpisodeOutcome(0, 0, False, 0.1, stopped_at_s, onset_s, events)


def test_detection_counts_stops_after_onset_within_the_deadline() -> None:
    outcomes = [
        outcome(1.2, 1.0),  # detected after 0.2 s
        outcome(1.4, 1.0),  # 0.4 s
        outcome(1.8, 1.0),  # 0.8 s: too late for the deadline
        outcome(0.5, 1.0),  # before onset: a false stop
        outcome(None, 1.0, warn=True),  # missed, but warned
    ]
    summary = detection_summary(outcomes, deadline_s=0.5)
    assert summary.episodes == 5
    assert summary.detection_rate == pytest.approx(2 / 5)
    assert summary.stopped_after_onset_rate == pytest.approx(3 / 5)
    assert summary.false_stop_rate == pytest.approx(1 / 5)
    assert summary.warn_rate == pytest.approx(1 / 5)
    assert summary.delay_s_p50 == pytest.approx(0.4)
    assert summary.delay_s_p90 == pytest.approx(0.72)  # numpy.percentile([.2, .4, .8], 90)


def test_on_nominal_episodes_every_stop_is_false() -> None:
    summary = detection_summary([outcome(0.7, None), outcome(None, None)])
    assert summary.false_stop_rate == 0.5
    assert summary.detection_rate == 0.0
    assert summary.delay_s_p50 is None
    assert math.isclose(summary.warn_rate, 0.0)

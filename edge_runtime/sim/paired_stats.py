"""Statistics for paired episodes: success intervals, paired comparisons, monitor detection.

Success rates of a hundred episodes are coarse (+-10 points), so every rate comes with a 95%
Wilson score interval, which stays inside [0, 1] and keeps its coverage near 0% and 100% where
the normal approximation fails. Two controllers run on the *same* episodes, so their
difference is judged on the pairs: McNemar's exact test looks only at the discordant
episodes (one succeeded, the other not), and Newcombe's hybrid score interval for a paired
difference (method 10 of Newcombe 1998, with its continuity-corrected correlation) is far
narrower than treating the two samples as independent. Pure Python: no SciPy on the robot.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edge_runtime.sim.episode_runner import EpisodeOutcome

Z95 = 1.959963984540054  # two-sided 95% standard normal quantile


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion; (0, 1) when there are no trials."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact ends, no 1e-17 residue
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return (low, high)


def mcnemar_exact_p(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs at 1/2."""
    n = only_first + only_second
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(only_first, only_second) + 1))
    return min(1.0, 2.0 * tail / 2.0**n)


@dataclass(frozen=True)
class PairedComparison:
    """Second vs first controller on the same episodes; difference = second - first."""

    episodes: int
    success_first: float
    success_second: float
    only_first: int  # episodes only the first controller succeeded in
    only_second: int
    difference: float
    ci95_difference: tuple[float, float]
    mcnemar_p: float


def compare_paired(first: Sequence[bool], second: Sequence[bool]) -> PairedComparison:
    """Paired comparison of two success sequences over the same episodes, in order."""
    if len(first) != len(second):
        raise ValueError(f"paired results differ in length: {len(first)} vs {len(second)}")
    n = len(first)
    both = sum(1 for a, b in zip(first, second) if a and b)
    only_first = sum(1 for a, b in zip(first, second) if a and not b)
    only_second = sum(1 for a, b in zip(first, second) if b and not a)
    neither = n - both - only_first - only_second
    if n == 0:
        return PairedComparison(0, 0.0, 0.0, 0, 0, 0.0, (-1.0, 1.0), 1.0)
    p1, p2 = (both + only_second) / n, (both + only_first) / n  # p1: second, p2: first
    l1, u1 = wilson_interval(both + only_second, n)
    l2, u2 = wilson_interval(both + only_first, n)
    phi = _corrected_correlation(both, only_second, only_first, neither)
    difference = p1 - p2
    lower = difference - math.sqrt(
        max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2))
    )
    upper = difference + math.sqrt(
        max(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1))
    )
    return PairedComparison(
        episodes=n,
        success_first=p2,
        success_second=p1,
        only_first=only_first,
        only_second=only_second,
        difference=difference,
        ci95_difference=(max(-1.0, lower), min(1.0, upper)),
        mcnemar_p=mcnemar_exact_p(only_first, only_second),
    )


def _corrected_correlation(a: int, b: int, c: int, d: int) -> float:
    """Newcombe's continuity-corrected phi of the 2x2 table [[a, b], [c, d]] (0 if degenerate)."""
    n = a + b + c + d
    product = (a + b) * (c + d) * (a + c) * (b + d)
    if product == 0:
        return 0.0
    excess = a * d - b * c
    if excess > n / 2:
        return (excess - n / 2) / math.sqrt(product)
    return 0.0 if excess >= 0 else excess / math.sqrt(product)


def is_warning(kind: str) -> bool:
    """Default test for a warning event kind, e.g. "world_model_warn"."""
    return "warn" in kind


@dataclass(frozen=True)
class DetectionSummary:
    """How a stopping controller (a surprise monitor) did on one condition's episodes.

    A stop before the perturbation's onset is a false stop, never a detection; a detection
    is a stop at or after onset, and counts toward `detection_rate` only within the deadline.
    Delays are measured from the drawn onset, so they include up to one action step (20 ms)
    before the change reaches the world and the wait for the next frame.
    """

    episodes: int
    detection_rate: float  # stopped within deadline_s of onset
    stopped_after_onset_rate: float  # at any time after onset
    false_stop_rate: float  # stopped before onset (for nominal: stopped at all)
    warn_rate: float  # any warning event
    delay_s_p50: float | None  # over all stops after onset
    delay_s_p90: float | None
    deadline_s: float


def detection_summary(
    outcomes: Sequence[EpisodeOutcome],
    deadline_s: float = 0.5,
    warning: Callable[[str], bool] = is_warning,
) -> DetectionSummary:
    """Detection rate and delay of stops relative to each episode's onset."""
    n = len(outcomes)
    delays, false_stops = [], 0
    for outcome in outcomes:
        if outcome.stopped_at_s is None:
            continue
        if outcome.onset_s is None or outcome.stopped_at_s < outcome.onset_s:
            false_stops += 1
        else:
            delays.append(outcome.stopped_at_s - outcome.onset_s)
    warned = sum(1 for o in outcomes if any(warning(kind) for _, kind, _ in o.events))
    detected = sum(1 for d in delays if d <= deadline_s + 1e-9)
    return DetectionSummary(
        episodes=n,
        detection_rate=detected / n if n else 0.0,
        stopped_after_onset_rate=len(delays) / n if n else 0.0,
        false_stop_rate=false_stops / n if n else 0.0,
        warn_rate=warned / n if n else 0.0,
        delay_s_p50=statistics.median(delays) if delays else None,
        delay_s_p90=_percentile(delays, 90.0),
        deadline_s=deadline_s,
    )


def _percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

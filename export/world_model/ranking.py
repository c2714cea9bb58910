"""Does a quantized rollout graph rank the planner's candidates like the FP32 one?

The planner keeps the elites (lowest costs) of each batch, so what must survive quantization
is the *order* of the costs, not their values. Cosine similarity is the wrong test here: all
costs are positive distances of similar size, so a cost vector scrambled by int8 noise still
has cosine ~0.99 with the original. Spearman's rank correlation and the overlap of the top-k
sets measure what the planner uses. `choose_rollout_precision` tries the requested precision
and falls back (int8 -> fp16 -> fp32) until the ranking holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.config import ExportConfig
from export.ort_session import open_session, run
from export.quantize import quantize
from export.samples import Samples, stack_feeds

FALLBACK = {"int8": "fp16", "fp16": "fp32"}


@dataclass(frozen=True)
class RankingThresholds:
    spearman_mean: float = 0.95
    spearman_min: float = 0.85
    top_k_overlap_mean: float = 0.75


@dataclass(frozen=True)
class RankingFidelity:
    precision: str
    samples: int
    spearman_mean: float
    spearman_min: float
    top_k: int
    top_k_overlap_mean: float

    def failures(self, limits: RankingThresholds) -> list[str]:
        found = []
        if self.spearman_mean < limits.spearman_mean:
            found.append(f"Spearman mean {self.spearman_mean:.3f} < {limits.spearman_mean}")
        if self.spearman_min < limits.spearman_min:
            found.append(f"Spearman min {self.spearman_min:.3f} < {limits.spearman_min}")
        if self.top_k_overlap_mean < limits.top_k_overlap_mean:
            found.append(
                f"top-{self.top_k} overlap {self.top_k_overlap_mean:.3f} < "
                f"{limits.top_k_overlap_mean}"
            )
        return found


def spearman(reference: np.ndarray, test: np.ndarray) -> float:
    """Rank correlation of two 1-D cost vectors (ties are broken by position)."""
    ranks_ref = np.argsort(np.argsort(reference)).astype(np.float64)
    ranks_test = np.argsort(np.argsort(test)).astype(np.float64)
    ranks_ref -= ranks_ref.mean()
    ranks_test -= ranks_test.mean()
    denominator = float(np.sqrt(np.sum(ranks_ref**2) * np.sum(ranks_test**2)))
    return float(np.sum(ranks_ref * ranks_test) / denominator) if denominator else 1.0


def top_k_overlap(reference: np.ndarray, test: np.ndarray, k: int) -> float:
    """Fraction of the k lowest-cost candidates of `reference` also among the k of `test`."""
    best_ref = set(np.argsort(reference)[:k].tolist())
    best_test = set(np.argsort(test)[:k].tolist())
    return len(best_ref & best_test) / k


def ranking_fidelity(
    precision: str, reference: np.ndarray, test: np.ndarray, k: int
) -> RankingFidelity:
    """Costs stacked (M samples, N candidates), FP32 `reference` vs quantized `test`."""
    ref = reference.reshape(len(reference), -1)
    tst = test.reshape(len(test), -1)
    rho = np.array([spearman(r, t) for r, t in zip(ref, tst)])
    overlap = np.array([top_k_overlap(r, t, k) for r, t in zip(ref, tst)])
    return RankingFidelity(
        precision, len(ref), float(rho.mean()), float(rho.min()), k, float(overlap.mean())
    )


def choose_rollout_precision(
    fp32_path: Path,
    requested: str,
    feeds: Samples,
    config: ExportConfig,
    top_k: int,
    limits: RankingThresholds | None = None,
    echo: Callable[[str], None] = lambda _msg: None,
) -> tuple[str, list[RankingFidelity]]:
    """The first precision from `requested` down whose costs rank like FP32 on held-out feeds.

    Calibrates on the head of `feeds` and judges on the tail, split like the export gate.
    """
    limits = limits or RankingThresholds()
    n = len(feeds)
    held = max(1, round(n * config.held_out_fraction))
    calibration = Samples({k: v[: n - held] for k, v in feeds.arrays.items()})
    held_out = Samples({k: v[n - held :] for k, v in feeds.arrays.items()})
    reference = _costs(fp32_path, held_out)
    measured: list[RankingFidelity] = []
    precision = "fp32"
    for precision, target in quantized_down(fp32_path, requested, calibration, config, "rollout"):
        fidelity = ranking_fidelity(precision, reference, _costs(target, held_out), top_k)
        measured.append(fidelity)
        failures = fidelity.failures(limits)
        if not failures:
            return precision, measured
        echo(f"  rollout at {precision} ranks badly ({'; '.join(failures)}); trying lower")
    return "fp32", measured


def quantized_down(
    source: Path, requested: str, calibration: Samples, config: ExportConfig, role: str
) -> Iterator[tuple[str, Path]]:
    """`source` quantized at `requested`, then each lower precision (int8 -> fp16), as
    (precision, file) while the caller keeps asking: the first one it accepts is the role's,
    none of them means fp32. Files live until the caller stops iterating."""
    precision = requested
    with tempfile.TemporaryDirectory(prefix=f"edgerun-{role}-") as tmp:
        while precision != "fp32":
            target = Path(tmp) / f"{role}.{precision}.onnx"
            quantize(
                source,
                target,
                precision,
                calibration,
                config.float_ops,
                config.float_nodes,
                config.float_outputs,
            )
            yield precision, target
            precision = FALLBACK[precision]


def rollout_feeds(encoder_onnx: Path, observations: Samples) -> Samples:
    """The rollout role's inputs for each observation sample: the FP32 encoder's latent, the
    joints and the sample's planner candidates (as the runtime's planner will feed them)."""
    encoder = open_session(encoder_onnx, threads=1)
    feeds = [
        {
            "latent": run(encoder, {"rgbd": obs["observation.rgbd"]})["latent"],
            "joint_positions": obs["observation.joint_positions"],
            "candidates": obs["planner.candidates"],
        }
        for obs in observations.feeds()
    ]
    return stack_feeds(feeds)


def _costs(path: Path, feeds: Samples) -> np.ndarray:
    session = open_session(path, threads=1)
    outputs: list[Mapping[str, np.ndarray]] = [run(session, feed) for feed in feeds.feeds()]
    return np.stack([o["cost"] for o in outputs])

"""A role's outputs compared with a reference, and the thresholds they crossed.

One comparison for two checks: the export gate (quantized model vs its FP32 original on
held-out observations, against the export config's thresholds) and `edgerun verify` (the
device engine vs the bundle's golden outputs, against the manifest's per-role tolerances).

Metrics per output over the samples: cosine similarity of each flattened sample (mean and
worst), and the largest absolute element error. For the action output, the error in joint units
divided by each joint's range: "1% of range" means the same on a gripper and on a shoulder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from export.config import GateThresholds


@dataclass(frozen=True)
class OutputFidelity:
    cosine_mean: float
    cosine_min: float
    max_abs: float


@dataclass(frozen=True)
class ActionFidelity:
    """Absolute action error divided by each joint's range (0.01 = 1% of range)."""

    mean: float
    max: float
    per_joint_max: tuple[float, ...]


# Filled by `verify` only; left out of the gate's `reports/accuracy.json`, whose schema
# `bench models` and reviewers read back.
DEVICE_FIELDS = ("backend", "tolerance", "fp32_cosine_min", "against")


@dataclass
class RoleAccuracy:
    """One role's outputs against a reference: fidelity per output and the thresholds crossed."""

    role: str
    precision: str
    samples: int
    outputs: dict[str, OutputFidelity]
    action: ActionFidelity | None = None
    failures: list[str] = field(default_factory=list)
    backend: str = ""  # the engine that produced the outputs (verify); "" in the export gate
    tolerance: dict[str, float] = field(default_factory=dict)  # the manifest's, for verify
    fp32_cosine_min: float | None = None  # worst cosine against the FP32 model (verify)
    against: str = ""  # verify: "golden" (the model's own outputs) or "fp32" (a variant's)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def cosine_min(self) -> float:
        """The worst single-sample cosine over every output."""
        return min((o.cosine_min for o in self.outputs.values()), default=1.0)

    @property
    def max_abs(self) -> float:
        """The largest absolute element error over every output."""
        return max((o.max_abs for o in self.outputs.values()), default=0.0)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        for key in DEVICE_FIELDS:
            del data[key]
        data["passed"] = self.passed
        return data


def cosine_per_sample(reference: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Cosine similarity of each sample (axis 0), flattened; two zero vectors count as 1."""
    ref = reference.reshape(len(reference), -1).astype(np.float64)
    tst = test.reshape(len(test), -1).astype(np.float64)
    dot = np.sum(ref * tst, axis=1)
    norms = np.linalg.norm(ref, axis=1) * np.linalg.norm(tst, axis=1)
    both_zero = norms == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(both_zero, 1.0, dot / np.where(both_zero, 1.0, norms))
    return np.clip(cos, -1.0, 1.0)


def output_fidelity(reference: np.ndarray, test: np.ndarray) -> OutputFidelity:
    cos = cosine_per_sample(reference, test)
    diff = np.abs(reference.astype(np.float64) - test.astype(np.float64))
    return OutputFidelity(
        cosine_mean=float(cos.mean()),
        cosine_min=float(cos.min()),
        max_abs=float(diff.max()) if diff.size else 0.0,
    )


def action_fidelity(
    reference: np.ndarray, test: np.ndarray, limits_rad: Sequence[tuple[float, float]]
) -> ActionFidelity:
    """Actions shaped (N, ..., J): error per joint over the joint's range."""
    ranges = np.array([hi - lo for lo, hi in limits_rad], dtype=np.float64)
    ranges = np.where(ranges > 0, ranges, 1.0)
    rel = np.abs(reference.astype(np.float64) - test.astype(np.float64)) / ranges
    per_joint = rel.reshape(-1, len(ranges)).max(axis=0)
    return ActionFidelity(
        mean=float(rel.mean()), max=float(rel.max()), per_joint_max=tuple(map(float, per_joint))
    )


def evaluate_role(
    role: str,
    precision: str,
    reference: dict[str, np.ndarray],
    test: dict[str, np.ndarray],
    thresholds: GateThresholds,
    action_output: str | None = None,
    limits_rad: Sequence[tuple[float, float]] = (),
) -> RoleAccuracy:
    """Compare stacked outputs (name -> (N, ...)) and record every threshold crossed."""
    outputs = {name: output_fidelity(reference[name], test[name]) for name in reference}
    action = None
    if action_output is not None and action_output in reference:
        action = action_fidelity(reference[action_output], test[action_output], limits_rad)
    samples = len(next(iter(reference.values()))) if reference else 0
    result = RoleAccuracy(role, precision, samples, outputs, action)
    for name, fid in outputs.items():
        if fid.cosine_mean < thresholds.cosine_mean:
            result.failures.append(
                f"{role}.{name} cosine mean {fid.cosine_mean:.5f} < {thresholds.cosine_mean}"
            )
        if fid.cosine_min < thresholds.cosine_min:
            result.failures.append(
                f"{role}.{name} cosine min {fid.cosine_min:.5f} < {thresholds.cosine_min}"
            )
        if thresholds.max_abs is not None and fid.max_abs > thresholds.max_abs:
            result.failures.append(
                f"{role}.{name} max abs error {fid.max_abs:.4g} > {thresholds.max_abs}"
            )
    if action is not None and action.max > thresholds.action_error:
        result.failures.append(
            f"{role}.{action_output} action error {100 * action.max:.2f}% of joint range > "
            f"{100 * thresholds.action_error:.2f}%"
        )
    return result

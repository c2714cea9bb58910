"""How well the bundle's predictor foresees held-out demonstrations, and the latent scale.

Runs the bundle's own (quantized) encoder and predictor - what the robot runs - over episodes
no training or monitor calibration saw. The per-dimension RMS of the one-step latent error
becomes the monitor's `latent_scale` (each dimension measured against its own typical error,
so the latent score is ~1 for an ordinary frame), and the 95th percentiles of the per-frame
latent and joint scores weigh the two channels against each other in the conformal
calibration. The 1- and 3-step errors, next to the "nothing changes" baseline, are the
report's evidence that the predictor has learned something.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.world_model.surprise import joint_score, latent_score
from export.ort_session import open_session, run
from export.reference.data import Demonstrations

SCALE_FLOOR = 0.1  # of the median dimension: no dimension may look 10x quieter than typical


@dataclass(frozen=True)
class PredictionStats:
    latent_scale: tuple[float, ...]
    latent_score_p95: float  # per-frame one-step latent score (with latent_scale)
    joint_score_p95_rad: float
    latent_rmse: tuple[float, ...]  # after 1, 2, 3 steps, latent units
    latent_unchanged_rmse: tuple[float, ...]  # "the latent stays as it is" baseline
    joint_rmse_rad: tuple[float, ...]
    joint_unchanged_rmse_rad: tuple[float, ...]
    transitions: int

    def lines(self) -> list[str]:
        out = []
        for k in range(len(self.latent_rmse)):
            out.append(
                f"  {k + 1}-step prediction on held-out episodes: latent RMSE "
                f"{self.latent_rmse[k]:.3f} (unchanged {self.latent_unchanged_rmse[k]:.3f}), "
                f"joints {1000 * self.joint_rmse_rad[k]:.1f} mrad "
                f"(unchanged {1000 * self.joint_unchanged_rmse_rad[k]:.1f})"
            )
        return out


def prediction_stats(
    encoder_onnx: Path, predictor_onnx: Path, demos: Demonstrations, steps: int = 3
) -> PredictionStats:
    """Errors after 1 .. `steps` predictor steps, fed back, on every chain of the demos."""
    encoder = open_session(encoder_onnx, threads=1)
    predictor = open_session(predictor_onnx, threads=1)
    latents = np.stack(
        [
            run(encoder, {"rgbd": demos.rgbd[i : i + 1].astype(np.float32)})["latent"][0]
            for i in range(len(demos))
        ]
    )
    chains = demos.successors(steps)
    z = latents[chains[:, 0]]
    q = demos.joints[chains[:, 0]]
    latent_err, joint_err, latent_same, joint_same = [], [], [], []
    for k in range(steps):
        z_next, q_next = [], []
        for i, chain in enumerate(chains):
            out = run(
                predictor,
                {
                    "latent": z[i : i + 1],
                    "joint_positions": q[i : i + 1],
                    "actions": demos.executed[chain[k]][None],
                },
            )
            z_next.append(out["next_latent"][0])
            q_next.append(out["next_joint_positions"][0])
        z, q = np.stack(z_next), np.stack(q_next)
        true_z = latents[chains[:, k + 1]]
        true_q = demos.joints[chains[:, k + 1]]
        latent_err.append(z - true_z)
        joint_err.append(q - true_q)
        latent_same.append(latents[chains[:, 0]] - true_z)
        joint_same.append(demos.joints[chains[:, 0]] - true_q)
    rms_dim = np.sqrt(np.mean(latent_err[0].astype(np.float64) ** 2, axis=0))
    scale = np.maximum(rms_dim, SCALE_FLOOR * float(np.median(rms_dim)))
    one_step_true = latents[chains[:, 1]]
    one_step_pred = one_step_true + latent_err[0]
    latent_scores = [
        latent_score(o, p, scale) for o, p in zip(one_step_true, one_step_pred)
    ]  # fmt: skip
    joint_scores = [joint_score(e, np.zeros_like(e)) for e in joint_err[0]]
    return PredictionStats(
        latent_scale=tuple(float(s) for s in scale),
        latent_score_p95=float(np.percentile(latent_scores, 95)),
        joint_score_p95_rad=float(np.percentile(joint_scores, 95)),
        latent_rmse=tuple(_rms(e) for e in latent_err),
        latent_unchanged_rmse=tuple(_rms(e) for e in latent_same),
        joint_rmse_rad=tuple(_rms(e) for e in joint_err),
        joint_unchanged_rmse_rad=tuple(_rms(e) for e in joint_same),
        transitions=len(chains),
    )


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(values, np.float64) ** 2)))

"""Does a quantized predictor still foresee one step as well as the FP32 one?

The surprise monitor compares the predictor's next latent and joints with what arrives 0.1 s
later, so what must survive quantization is the *one-step error*, whose scale is how much a
latent moves in 0.1 s (a few thousandths on the reference model) and a few mrad of joint
tracking. Cosine against FP32 cannot see that: INT8 rounding of latents that span about +-3
adds errors larger than a whole step's change while cosine stays at 0.99998 (measured on the
reference predictor: INT8 doubles the joint residual, 2.5 -> 4.8 mrad, and the latent error,
0.003 -> 0.005; FP16 changes neither). `choose_predictor_precision` tries the requested
precision and falls back (int8 -> fp16 -> fp32) until both errors stay within `max_ratio` of
FP32's on held-out demonstrations.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from export.config import ExportConfig
from export.ort_session import open_session, run
from export.reference.data import Demonstrations
from export.samples import Samples, stack_feeds
from export.world_model.prediction import PredictionStats, prediction_stats
from export.world_model.ranking import quantized_down

MAX_RATIO = 1.25  # quantized one-step error may be at most 25% above FP32's


def predictor_feeds(encoder_onnx: Path, observations: Samples) -> Samples:
    """The predictor's inputs per observation sample (FP32 encoder latent, joints, the
    targets executed over the step), for INT8 calibration."""
    encoder = open_session(encoder_onnx, threads=1)
    return stack_feeds(
        [
            {
                "latent": run(encoder, {"rgbd": obs["observation.rgbd"]})["latent"],
                "joint_positions": obs["observation.joint_positions"],
                "actions": obs["observation.executed_actions"],
            }
            for obs in observations.feeds()
        ]
    )


def choose_predictor_precision(
    encoder_onnx: Path,
    predictor_onnx: Path,
    requested: str,
    observations: Samples,
    demos: Demonstrations,
    config: ExportConfig,
    max_ratio: float = MAX_RATIO,
    echo: Callable[[str], None] = lambda _msg: None,
) -> tuple[str, PredictionStats]:
    """The first precision from `requested` down whose one-step errors stay near FP32's."""
    reference = prediction_stats(encoder_onnx, predictor_onnx, demos, steps=1)
    feeds = predictor_feeds(encoder_onnx, observations)
    calibration_count = len(feeds) - max(1, round(len(feeds) * config.held_out_fraction))
    calibration = Samples({k: v[:calibration_count] for k, v in feeds.arrays.items()})
    for precision, target in quantized_down(
        predictor_onnx, requested, calibration, config, "predictor"
    ):
        stats = prediction_stats(encoder_onnx, target, demos, steps=1)
        latent_ratio = stats.latent_rmse[0] / max(reference.latent_rmse[0], 1e-12)
        joint_ratio = stats.joint_rmse_rad[0] / max(reference.joint_rmse_rad[0], 1e-12)
        echo(
            f"  predictor at {precision}: one-step latent error x{latent_ratio:.2f}, joint "
            f"error x{joint_ratio:.2f} of FP32's"
        )
        if latent_ratio <= max_ratio and joint_ratio <= max_ratio:
            return precision, stats
    return "fp32", reference

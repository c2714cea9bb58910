"""`build_reference_bundle`: the committed reference checkpoint -> a quantized, signed bundle.

Roles and wiring match what the runtime's inference worker computes from the simulated camera
and the servo chain:

    encoder    rgbd (1, 4, 96, 128)  <- observation.rgbd            -> latent (1, 64)
    policy     latent                <- encoder.latent
               joint_positions (1,4) <- observation.joint_positions -> actions (1, 16, 4)
    predictor  latent                <- encoder.latent
               actions               <- policy.actions              -> next_latent (1, 64)

Calibration and held-out data come from fresh expert episodes with seeds the training never
saw, so the accuracy gate judges quantization on new targets.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from edge_runtime.bundle.manifest import ActionSpec, Preprocessing
from export.bundle_writer import RoleSource, write_bundle
from export.config import load_export_config
from export.reference.train import CHECKPOINT, load_checkpoint
from export.samples import Samples

CALIBRATION_SEED = 1_000_003
CALIBRATION_EPISODES = 8
EVALUATION_SEED = 2_000_003  # neither training (0) nor calibration sees these targets
CONTROL_PERIOD_S = 0.01
REFERENCE_FLOAT_OPS = ("Softmax", "MatMul", "Add")


def export_reference_onnx(checkpoint: Path, out_dir: Path) -> dict[str, RoleSource]:
    """Load the checkpoint and export the three FP32 graphs with their input sources."""
    import torch

    from export.onnx_export import export_module
    from export.reference.models import CHUNK, IMAGE_HW, JOINTS, LATENT, Encoder, Policy, Predictor

    state = load_checkpoint(checkpoint)
    encoder, policy, predictor = Encoder(), Policy(), Predictor()
    for name, module in (("encoder", encoder), ("policy", policy), ("predictor", predictor)):
        module.load_state_dict(state[name])  # type: ignore[arg-type]
    latent = torch.zeros(1, LATENT)
    export_module(
        encoder, (torch.zeros(1, 4, *IMAGE_HW),), out_dir / "encoder.onnx", ["rgbd"], ["latent"]
    )
    export_module(
        policy,
        (latent, torch.zeros(1, JOINTS)),
        out_dir / "policy.onnx",
        ["latent", "joint_positions"],
        ["actions"],
    )
    export_module(
        predictor,
        (latent, torch.zeros(1, CHUNK, JOINTS)),
        out_dir / "predictor.onnx",
        ["latent", "actions"],
        ["next_latent"],
    )
    return {
        "encoder": RoleSource(out_dir / "encoder.onnx", {"rgbd": "observation.rgbd"}),
        "policy": RoleSource(
            out_dir / "policy.onnx",
            {"latent": "encoder.latent", "joint_positions": "observation.joint_positions"},
        ),
        "predictor": RoleSource(
            out_dir / "predictor.onnx", {"latent": "encoder.latent", "actions": "policy.actions"}
        ),
    }


def reference_specs() -> tuple[Preprocessing, ActionSpec]:
    from edge_runtime.sim.expert import ChunkSpec
    from edge_runtime.sim.world import JOINT_NAMES, SimWorld
    from export.reference.data import DEPTH_MAX_M, RGB_MEAN, RGB_STD
    from export.reference.models import CHUNK, IMAGE_HW

    chunk = ChunkSpec()
    assert chunk.chunk_length == CHUNK, "the expert's chunk length changed; retrain"
    with SimWorld() as world:
        limits = world.joint_limits()
    return (
        Preprocessing(IMAGE_HW, RGB_MEAN, RGB_STD, DEPTH_MAX_M),
        ActionSpec(
            joint_names=JOINT_NAMES,
            limits_rad=tuple((float(lo), float(hi)) for lo, hi in limits),
            chunk_length=chunk.chunk_length,
            dt_s=chunk.dt_s,
        ),
    )


def build_reference_bundle(
    out_dir: str | Path,
    precision: str = "int8",
    sign_key: str | Path | None = None,
    config_path: str | Path | None = None,
    tar: bool = False,
    echo: Callable[[str], None] = lambda _msg: None,
    checkpoint: Path = CHECKPOINT,
) -> Path:
    """Export the committed reference checkpoint as a bundle; returns its path.

    `precision` applies to every role unless the export config's [precision] names one.
    The bundle is unsigned without `sign_key` (load it in development mode).
    """
    from export.reference.data import collect, observation_samples

    started = time.monotonic()
    config = load_export_config(config_path)
    precision_by_role = {r: precision for r in ("encoder", "policy", "predictor")}
    precision_by_role.update(config.precision)
    # Spatial-softmax probabilities are mostly far below int8's step: keep the keypoint
    # Softmax and its MatMul in float. The residual Adds (joints + offsets, latent + delta)
    # stay float too, so the action output is not rounded to int8 steps of +-2.6 rad (0.91%
    # -> 0.78% worst action error measured). Convs and Gemms, nearly all compute, are int8.
    config = replace(
        config, precision=precision_by_role, float_ops=config.float_ops or REFERENCE_FLOAT_OPS
    )
    with tempfile.TemporaryDirectory(prefix="edgerun-reference-") as tmp:
        roles = export_reference_onnx(checkpoint, Path(tmp))
        echo(f"exported FP32 graphs ({time.monotonic() - started:.1f} s); collecting data ...")
        demos = collect(CALIBRATION_EPISODES, CALIBRATION_SEED)
        observations = Samples(observation_samples(demos, len(demos)))
        pre, action = reference_specs()
        echo(f"{len(observations)} observations; quantizing {precision_by_role} ...")
        result = write_bundle(
            out_dir,
            roles,
            observations,
            pre,
            action,
            CONTROL_PERIOD_S,
            config,
            sign_key=sign_key,
            tar=tar,
            exporter={"model": "edge-runtime reference (trained)", "checkpoint": checkpoint.name},
        )
    for acc in result.accuracy:
        for name, fid in acc.outputs.items():
            action_text = f", action {100 * acc.action.max:.2f}%" if acc.action else ""
            echo(
                f"  {acc.role}.{name} [{acc.precision}]: cosine {fid.cosine_mean:.5f} mean / "
                f"{fid.cosine_min:.5f} min, max abs {fid.max_abs:.3g}{action_text}"
            )
    echo(f"reference bundle {result.path} in {time.monotonic() - started:.1f} s")
    return result.path

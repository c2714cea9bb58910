"""Write the analytic reference bundle: a clearly labelled, NOT trained, stand-in policy.

Until the export toolchain's trained reference bundle exists, the demo runs this. The graphs
(`analytic_graphs`) find the red target in the image and map its image position to goal
joints with a cubic polynomial. The polynomial is fitted here, deterministically for a seed:
targets are placed across the workspace, the encoder graph itself (in ONNX Runtime) reads
each rendered image, and the scripted expert's IK gives the joints to fit. Fitting with the
arm both at home and at the goal covers what the camera sees at the start and at the end of a
reach (the hand partly hides the target near the goal).

The bundle is unsigned; load it with `open_bundle(path, development_mode=True)`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bundle.manifest import ActionSpec, Manifest, Preprocessing, RoleSpec, TensorEntry
from edge_runtime.bundle.reader import MANIFEST, sha256_file
from edge_runtime.pipeline.preprocess import rgbd_tensor
from edge_runtime.sim.analytic_graphs import (
    LATENT,
    LATENT_SIZE,
    build_encoder,
    build_policy,
    poly_features,
)
from edge_runtime.sim.expert import ChunkSpec, ScriptedExpert
from edge_runtime.sim.render import RgbdRenderer
from edge_runtime.sim.world import JOINT_NAMES, SimWorld

EXPORTER = "analytic-reference (not a trained model)"
RGB_MEAN = (0.5, 0.5, 0.5)
RGB_STD = (0.25, 0.25, 0.25)
DEPTH_MAX_M = 2.0


@dataclass(frozen=True)
class GoalFit:
    coefficients: np.ndarray  # (F, J)
    center: np.ndarray  # (2,)
    scale: np.ndarray  # (2,)
    rms_rad: float  # joint-space residual of the fit
    samples: int


def _session(model: Any) -> Any:
    import onnxruntime as ort

    from edge_runtime.engines.ort_options import session_options

    return ort.InferenceSession(
        model.SerializeToString(), session_options(1), providers=["CPUExecutionProvider"]
    )


def fit_goal_map(
    world: SimWorld, encoder: Any, width: int, height: int, samples: int, seed: int
) -> GoalFit:
    """Least-squares cubic map from the encoder's (u, v) to the expert's IK goal joints."""
    expert = ScriptedExpert(world)
    rng = np.random.default_rng([seed, 7])
    uv, goals = [], []
    with RgbdRenderer(world, width, height) as renderer:
        for i in range(samples):
            world.reset(int(rng.integers(2**31)))
            goal = expert.goal_joints()
            if i % 2:  # the arm at the goal: what the camera sees at the end of a reach
                world.reset(world.seed, joints_rad=goal)
            image = renderer.render()
            x = rgbd_tensor(image.color, image.depth_m, RGB_MEAN, RGB_STD, DEPTH_MAX_M)
            latent = encoder.run(None, {"rgbd": x})[0][0]
            if latent[3] > 0.5:
                uv.append(latent[:2])
                goals.append(goal)
    uv_arr, goal_arr = np.array(uv), np.array(goals)
    if len(uv_arr) < 20:
        raise RuntimeError(
            f"only {len(uv_arr)} of {samples} targets were visible; check the camera"
        )
    center = uv_arr.mean(axis=0)
    scale = uv_arr.std(axis=0) + 1e-9
    features = poly_features(uv_arr, center, scale)
    coefficients, *_ = np.linalg.lstsq(features, goal_arr, rcond=None)
    rms = float(np.sqrt(np.mean((features @ coefficients - goal_arr) ** 2)))
    return GoalFit(coefficients, center, scale, rms, len(uv_arr))


def write_analytic_bundle(
    out_dir: str | Path,
    seed: int = 0,
    width: int = 128,
    height: int = 96,
    spec: ChunkSpec | None = None,
    control_period_s: float = 0.01,
    samples: int = 160,
) -> Path:
    """Build, fit, check and write the bundle directory; returns its path."""
    import onnx

    spec = spec or ChunkSpec()
    out = Path(out_dir)
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "golden").mkdir(parents=True, exist_ok=True)
    world = SimWorld(seed=seed)
    limits = world.joint_limits()
    encoder = build_encoder(height, width, RGB_MEAN, RGB_STD, DEPTH_MAX_M)
    enc_session = _session(encoder)
    fit = fit_goal_map(world, enc_session, width, height, samples, seed)
    policy = build_policy(
        fit.coefficients, fit.center, fit.scale, limits,
        spec.chunk_length, spec.dt_s, spec.max_velocity_rad_s,
    )  # fmt: skip
    onnx.save(encoder, str(out / "models" / "encoder.onnx"))
    onnx.save(policy, str(out / "models" / "policy.onnx"))

    # Golden data: a few seeded observations through both graphs in ONNX Runtime.
    pol_session = _session(policy)
    enc_in, enc_out, pol_q, pol_out = [], [], [], []
    with RgbdRenderer(world, width, height) as renderer:
        for k in range(4):
            world.reset(seed + 1000 + k)
            image = renderer.render()
            x = rgbd_tensor(image.color, image.depth_m, RGB_MEAN, RGB_STD, DEPTH_MAX_M)
            latent = enc_session.run(None, {"rgbd": x})[0]
            q = world.joint_positions().astype(np.float32)[None]
            enc_in.append(x)
            enc_out.append(latent)
            pol_q.append(q)
            pol_out.append(pol_session.run(None, {LATENT: latent, "joint_positions": q})[0])
    _save_golden(out / "golden" / "encoder.npz", {"rgbd": enc_in}, {LATENT: enc_out})
    _save_golden(
        out / "golden" / "policy.npz",
        {LATENT: enc_out, "joint_positions": pol_q},
        {"actions": pol_out},
    )
    report = {"analytic": True, "goal_fit_rms_rad": fit.rms_rad, "fit_samples": fit.samples}
    (out / "reports").mkdir(exist_ok=True)
    (out / "reports" / "accuracy.json").write_text(json.dumps(report, indent=2) + "\n")

    joints = len(JOINT_NAMES)
    tol = {"max_abs": 1e-4}
    roles = {
        "encoder": RoleSpec(
            file="models/encoder.onnx",
            precision="fp32",
            inputs=(TensorEntry("rgbd", (1, 4, height, width), source="observation.rgbd"),),
            outputs=(TensorEntry(LATENT, (1, LATENT_SIZE)),),
            golden="golden/encoder.npz",
            tolerance=dict(tol),
        ),
        "policy": RoleSpec(
            file="models/policy.onnx",
            precision="fp32",
            inputs=(
                TensorEntry(LATENT, (1, LATENT_SIZE), source=f"encoder.{LATENT}"),
                TensorEntry("joint_positions", (1, joints), source="observation.joint_positions"),
            ),
            outputs=(TensorEntry("actions", (1, spec.chunk_length, joints)),),
            golden="golden/policy.npz",
            tolerance=dict(tol),
        ),
    }
    files = {
        str(p.relative_to(out)): sha256_file(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST, "signature")
    }
    manifest = Manifest(
        roles=roles,
        preprocessing=Preprocessing((height, width), RGB_MEAN, RGB_STD, DEPTH_MAX_M),
        action=ActionSpec(
            joint_names=JOINT_NAMES,
            limits_rad=tuple((float(lo), float(hi)) for lo, hi in limits),
            chunk_length=spec.chunk_length,
            dt_s=spec.dt_s,
            output="policy.actions",
        ),
        control_period_s=control_period_s,
        files=files,
        exporter={"name": EXPORTER, "version": "1", "seed": str(seed)},
        created_utc=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    (out / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return out


def _save_golden(
    path: Path, inputs: dict[str, list[np.ndarray]], outputs: dict[str, list[np.ndarray]]
) -> None:
    """Same layout as the export toolchain: input/<name>, output/<name>, fp32/<name>."""
    arrays = {f"input/{k}": np.stack(v) for k, v in inputs.items()}
    arrays.update({f"output/{k}": np.stack(v) for k, v in outputs.items()})
    arrays.update({f"fp32/{k}": np.stack(v) for k, v in outputs.items()})
    with path.open("wb") as handle:
        np.savez_compressed(handle, **arrays)

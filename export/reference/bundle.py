"""`build_reference_bundle`: the committed reference checkpoint -> a quantized, signed bundle.

Roles and wiring follow the world-model contract (docs/world-model.md):

    encoder    rgbd (1, 4, 96, 128)  <- observation.rgbd            -> latent (1, 64)
    policy     latent                <- encoder.latent
               joint_positions (1,4) <- observation.joint_positions -> actions (1, 16, 4)
    predictor  latent                <- encoder.latent
               joint_positions (1,4) <- observation.joint_positions
               actions (1, 5, 4)     <- observation.executed_actions
                                     -> next_latent (1, 64), next_joint_positions (1, 4)
    rollout    latent, joint_positions as above
               candidates (64,16,4)  <- planner.candidates          -> cost (64,)

INT8 calibration and held-out data come from fresh expert episodes with seeds the training
never saw, so the accuracy gate judges quantization on new targets. The rollout graph must
also rank candidates like FP32 (`export.world_model.ranking`). The bundle is then written
twice: once to calibrate the surprise monitor on its own (quantized) models in closed loop,
and once more, identical but for the manifest's `world_model` section, signed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from edge_runtime.bundle.manifest import ActionSpec, Preprocessing
from edge_runtime.bundle.world_model import MonitorSpec
from export.bundle_writer import BundleResult, RoleSource, write_bundle, write_judged_manifest
from export.config import ExportConfig, load_export_config
from export.errors import AccuracyGateError, ExportError
from export.reference.data import Demonstrations
from export.reference.train import CHECKPOINT, load_checkpoint
from export.samples import Samples
from export.world_model.monitor_calibration import MonitorSettings

CALIBRATION_SEED = 1_000_003
CALIBRATION_EPISODES = 8
EVALUATION_SEED = 2_000_003  # neither training (0, 1) nor calibration sees these targets
CONTROL_PERIOD_S = 0.01
REFERENCE_FLOAT_OPS = ("Softmax", "MatMul", "Add")
ROLES = ("encoder", "policy", "predictor", "rollout")
OBSERVATION_INPUTS = {"latent": "encoder.latent", "joint_positions": "observation.joint_positions"}


def export_reference_onnx(checkpoint: Path, out_dir: Path) -> dict[str, RoleSource]:
    """Load the checkpoint and export the four FP32 graphs with their input sources."""
    import torch

    from export.onnx_export import export_module
    from export.reference.models import (
        CHUNK,
        IMAGE_HW,
        JOINTS,
        LATENT,
        ROLLOUT_SAMPLES,
        STEP_ACTIONS,
        CostHead,
        Encoder,
        Policy,
        Predictor,
        Rollout,
    )
    from export.world_model.graphs import export_rollout

    state = load_checkpoint(checkpoint)
    modules = {"encoder": Encoder(), "policy": Policy(), "predictor": Predictor()}
    modules["cost_head"] = CostHead()
    for name, module in modules.items():
        module.load_state_dict(state[name])  # type: ignore[arg-type]
    latent, joints = torch.zeros(1, LATENT), torch.zeros(1, JOINTS)
    export_module(
        modules["encoder"],
        (torch.zeros(1, 4, *IMAGE_HW),),
        out_dir / "encoder.onnx",
        ["rgbd"],
        ["latent"],
    )
    export_module(
        modules["policy"],
        (latent, joints),
        out_dir / "policy.onnx",
        ["latent", "joint_positions"],
        ["actions"],
    )
    export_module(
        modules["predictor"],
        (latent, joints, torch.zeros(1, STEP_ACTIONS, JOINTS)),
        out_dir / "predictor.onnx",
        ["latent", "joint_positions", "actions"],
        ["next_latent", "next_joint_positions"],
    )
    rollout = Rollout(modules["predictor"], modules["cost_head"])  # type: ignore[arg-type]
    export_rollout(rollout, LATENT, JOINTS, CHUNK, ROLLOUT_SAMPLES, out_dir / "rollout.onnx")
    return {
        "encoder": RoleSource(out_dir / "encoder.onnx", {"rgbd": "observation.rgbd"}),
        "policy": RoleSource(out_dir / "policy.onnx", dict(OBSERVATION_INPUTS)),
        "predictor": RoleSource(
            out_dir / "predictor.onnx",
            {**OBSERVATION_INPUTS, "actions": "observation.executed_actions"},
        ),
        "rollout": RoleSource(
            out_dir / "rollout.onnx", {**OBSERVATION_INPUTS, "candidates": "planner.candidates"}
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
            interpolation="hold",  # trained on held targets (edge_runtime.sim.episodes)
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
    monitor: MonitorSettings | None = None,
) -> Path:
    """Export the committed reference checkpoint as a bundle; returns its path.

    `precision` applies to every role unless the export config's [precision] names one; the
    rollout role falls back to fp16/fp32 when quantization spoils its ranking, the predictor
    when it spoils the one-step prediction, the encoder to fp16 when the end-to-end action
    error fails the gate. The bundle is
    unsigned without `sign_key` (load it in development mode). `monitor` sets the surprise
    monitor's calibration run (default: 200 nominal episodes).
    """
    from export.reference.data import collect, observation_samples
    from export.reference.models import ROLLOUT_SAMPLES, STEP_ACTIONS, STEP_WEIGHTS
    from export.world_model.predictor_check import choose_predictor_precision
    from export.world_model.section import world_model_section

    started = time.monotonic()
    config = load_export_config(config_path)
    explicit = set(config.precision)
    precision_by_role = {r: precision for r in ROLES}
    precision_by_role.update(config.precision)
    # Spatial-softmax probabilities are mostly far below int8's step: keep the keypoint
    # Softmax and its MatMul in float. The residual Adds (joints + offsets, latent + delta)
    # stay float too, so the action output is not rounded to int8 steps of +-2.6 rad (0.91%
    # -> 0.78% worst action error measured). Convs and Gemms, nearly all compute, are int8.
    # auto_mixed: every quantized role also ships its FP32 original (and INT8 roles their
    # `int8_ort` graph) as candidates the device times, so on ONNX Runtime CPU, where the Q/DQ
    # INT8 policy ran 1.42x FP32 (docs/perf/models.md), no role runs slower than FP32.
    config = replace(config, float_ops=config.float_ops or REFERENCE_FLOAT_OPS, auto_mixed=True)
    pre, action = reference_specs()
    with tempfile.TemporaryDirectory(prefix="edgerun-reference-") as tmp:
        roles = export_reference_onnx(checkpoint, Path(tmp))
        echo(f"exported FP32 graphs ({time.monotonic() - started:.1f} s); collecting data ...")
        demos = collect(CALIBRATION_EPISODES, CALIBRATION_SEED, workers=1)
        observations = Samples(observation_samples(demos, len(demos)))
        precision_by_role["rollout"] = _rollout_precision(
            roles, observations, precision_by_role["rollout"], config, echo
        )
        if precision_by_role["predictor"] != "fp32":
            graphs = (roles["encoder"].onnx, roles["predictor"].onnx)
            asked = precision_by_role["predictor"]
            precision_by_role["predictor"], _ = choose_predictor_precision(
                *graphs, asked, observations, demos, config, echo=echo
            )
        config = replace(config, precision=precision_by_role)
        echo(f"{len(observations)} observations; quantizing {precision_by_role} ...")
        exporter = {"model": "edge-runtime reference (trained)", "checkpoint": checkpoint.name}
        draft, config = _write_draft(
            Path(tmp), Path(out_dir), roles, observations, config, explicit, exporter, echo
        )
        data = (observations, pre, action, CONTROL_PERIOD_S, config)
        committed = checkpoint.resolve() == CHECKPOINT.resolve()  # a fine-tune keeps its own
        section = _calibrate(draft, demos, action, pre, monitor, echo, store=committed)
        step_s = STEP_ACTIONS * action.dt_s
        spec = world_model_section(step_s, STEP_ACTIONS, ROLLOUT_SAMPLES, STEP_WEIGHTS, section)
        result = write_bundle(
            out_dir, roles, *data, sign_key=sign_key, tar=tar, exporter=exporter, world_model=spec
        )
        models = {k: v for k, v in result.manifest.files.items() if k.startswith("models/")}
        if models != {k: v for k, v in draft.manifest.files.items() if k.startswith("models/")}:
            raise ExportError(
                "quantization gave different models on the second pass, so the monitor was "
                "calibrated on other models than the bundle holds; report this exporter bug"
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


def _write_draft(
    tmp: Path,
    out_dir: Path,
    roles: dict[str, RoleSource],
    observations: Samples,
    config: ExportConfig,
    explicit: set[str],
    exporter: dict[str, str],
    echo: Callable[[str], None],
) -> tuple[BundleResult, ExportConfig]:
    """The first draft bundle that passes the gate: as asked, then with an FP16 encoder.

    Measured on the world-model checkpoint: the INT8 encoder's latent error (cosine 0.99997)
    grows through the policy to 1.5% of joint range end to end, above the 1% gate, while an FP16
    encoder with the INT8 policy stays at 0.5%. The fallback applies only when the export
    config does not name the encoder's precision; a failure is reported in `out_dir/reports`.
    """
    pre, action = reference_specs()
    attempts = [config]
    if config.precision.get("encoder") == "int8" and "encoder" not in explicit:
        attempts.append(replace(config, precision={**config.precision, "encoder": "fp16"}))
    for attempt, chosen in enumerate(attempts):
        draft = tmp / f"draft{attempt}"
        untested = replace(chosen, task_gate=replace(chosen.task_gate, episodes=0))  # final only
        data = (observations, pre, action, CONTROL_PERIOD_S, untested)
        try:
            return write_bundle(draft, roles, *data, exporter=exporter), chosen
        except AccuracyGateError as exc:
            if attempt + 1 < len(attempts):
                echo(f"  {exc.args[0].split(';')[0]}; retrying with the encoder at fp16")
                continue
            (out_dir / "reports").mkdir(parents=True, exist_ok=True)
            for report in (draft / "reports").iterdir():
                shutil.copyfile(report, out_dir / "reports" / report.name)
            raise AccuracyGateError(str(exc).replace(str(draft), str(out_dir))) from exc
    raise AssertionError("unreachable: the last attempt returns or raises")


def _rollout_precision(
    roles: dict[str, RoleSource],
    observations: Samples,
    requested: str,
    config: ExportConfig,
    echo: Callable[[str], None],
) -> str:
    """The rollout role's precision after the ranking check (FP32 encoder latents feed it)."""
    from export.world_model.ranking import choose_rollout_precision, rollout_feeds
    from export.world_model.section import PlannerDefaults

    if requested == "fp32":
        return requested
    feeds = rollout_feeds(roles["encoder"].onnx, observations)
    top_k = PlannerDefaults().elites
    chosen, measured = choose_rollout_precision(
        roles["rollout"].onnx, requested, feeds, config, top_k, echo=echo
    )
    for fid in measured:
        echo(
            f"  rollout ranking at {fid.precision}: Spearman {fid.spearman_mean:.3f} mean / "
            f"{fid.spearman_min:.3f} min, top-{fid.top_k} overlap {fid.top_k_overlap_mean:.2f}"
        )
    return chosen


def _calibrate(
    draft: BundleResult,
    demos: Demonstrations,
    action: ActionSpec,
    pre: Preprocessing,
    monitor: MonitorSettings | None,
    echo: Callable[[str], None],
    store: bool = True,
) -> MonitorSpec:
    """Latent scale from held-out demonstrations, then the monitor's closed-loop thresholds."""
    from edge_runtime.sim.episode_runner import EpisodeSettings
    from export.reference.models import STEP_ACTIONS
    from export.world_model import calibration_cache
    from export.world_model.monitor_calibration import calibrate_monitor
    from export.world_model.prediction import prediction_stats

    bundle_path = draft.path
    monitor = monitor or MonitorSettings()
    files = {k: v for k, v in draft.manifest.files.items() if k.startswith("models/")}
    models = bundle_path / "models"
    stats = prediction_stats(models / "encoder.onnx", models / "predictor.onnx", demos)
    for line in stats.lines():
        echo(line)
    height, width = pre.image_size
    settings = EpisodeSettings(
        dt_s=action.dt_s,
        actions_per_step=STEP_ACTIONS,
        width=width,
        height=height,
        control_period_s=CONTROL_PERIOD_S,  # score what `edgerun run` will execute
    )
    channel_scale = (stats.latent_score_p95, stats.joint_score_p95_rad)
    run = {**asdict(monitor), "workers": None, "episodes_run": asdict(settings),
           "graphs": "manifest"}  # fmt: skip
    key = calibration_cache.cache_key(files, run)
    cached = calibration_cache.load(key)
    if cached is not None:
        echo("  monitor: thresholds from the calibration cache (same models, settings, code)")
        return cached
    # Calibrated on the manifest's own graphs, like the task gate, not on whichever variant
    # this machine's timing picks (FP32 on an AVX2 CPU): the thresholds do not depend on the
    # computer that exported.
    write_judged_manifest(bundle_path, draft.manifest)
    result = calibrate_monitor(
        bundle_path, "predictor", stats.latent_scale, channel_scale, settings, monitor, echo
    )
    spec = result.spec
    if store and monitor == MonitorSettings():  # the committed checkpoint's shipped defaults
        calibration_cache.store(key, spec)
    echo(
        f"  monitor: {spec.calibration.episodes} nominal episodes in {result.seconds:.0f} s "
        f"(policy success {result.successes}/{spec.calibration.episodes}); warn latent "
        f"{spec.warn.latent:.2f} / joints {spec.warn.joints_rad:.4f} rad, stop latent "
        f"{spec.stop.latent:.2f} / joints {spec.stop.joints_rad:.4f} rad"
    )
    return spec

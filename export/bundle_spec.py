"""The bundle spec (TOML) for exporting ready-made ONNX files: roles, wiring, action, preprocessing.

    control_period_s = 0.02
    [preprocessing]
    image_size = [64, 64]          # (height, width) the encoder expects
    depth_max_m = 2.0
    [action]
    joint_names = ["shoulder", "elbow"]
    limits_rad = [[-1.5, 1.5], [-2.0, 2.0]]
    chunk_length = 8
    dt_s = 0.02
    output = "policy.actions"
    [roles.encoder]
    onnx = "encoder.onnx"          # relative to this file
    sources = { rgbd = "observation.rgbd" }
    [roles.policy]
    onnx = "policy.onnx"
    sources = { latent = "encoder.latent", joints = "observation.joint_positions" }

A source is a runtime input (`observation.rgbd` is the primary camera's image), a named
camera's image on a multi-camera robot (`observation.wrist.rgbd`, `.rgb`, `.depth`: the
robot's `[[cameras]]` name), or another role's output (`encoder.latent`).

Observation data for calibration is an `.npz` keyed by observation source
(`observation.rgbd`, `observation.wrist.rgbd`, `observation.joint_positions`), N samples on
axis 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.bundle.manifest import (
    INPUT_SOURCES,
    ROLES,
    ActionSpec,
    Preprocessing,
    TensorEntry,
    is_input_source,
    parse_action,
    parse_preprocessing,
)
from edge_runtime.fields import Section, load_toml
from export.bundle_writer import RoleSource
from export.errors import ExportError
from export.onnx_check import validate_onnx
from export.samples import Samples, load_samples


@dataclass(frozen=True)
class BundleSpec:
    roles: dict[str, RoleSource]
    preprocessing: Preprocessing
    action: ActionSpec
    control_period_s: float


def load_bundle_spec(path: str | Path) -> BundleSpec:
    path = Path(path)
    data = load_toml(path, ExportError, "bundle spec", "pass --spec with a TOML file")
    return parse_bundle_spec(data, path.name, path.parent)


def parse_bundle_spec(data: dict[str, Any], where: str, base: Path) -> BundleSpec:
    top = Section({"spec": data}, "spec", where, label="the spec", error=ExportError)
    period = top.number("control_period_s", positive=True)
    top._get("preprocessing", {})
    top._get("action", {})
    raw_roles = top.table("roles")
    top.done()
    preprocessing = parse_preprocessing(data, where, ExportError)
    action = parse_action(data, where, ExportError)
    roles: dict[str, RoleSource] = {}
    for role, raw in raw_roles.items():
        if role not in ROLES:
            raise ExportError(f"{where}: unknown role [roles.{role}]; roles are {ROLES}")
        sec = Section({role: raw}, role, where, label=f"[roles.{role}]", error=ExportError)
        onnx_path = Path(sec.string("onnx"))
        sources = sec.table("sources")
        sec.done()
        if not all(isinstance(v, str) for v in sources.values()):
            raise ExportError(f"{where}: [roles.{role}] sources must map input names to strings")
        for name, source in sources.items():
            _check_source(source, f"{where}: [roles.{role}] input '{name}'")
        roles[role] = RoleSource(
            onnx_path if onnx_path.is_absolute() else base / onnx_path, dict(sources)
        )
    if "policy" not in roles:
        raise ExportError(f"{where}: the spec needs a [roles.policy] model")
    return BundleSpec(roles, preprocessing, action, period)


def _check_source(source: str, what: str) -> None:
    """A source the runtime can feed, or a role's output: caught here, not on the robot."""
    role, _, output = source.partition(".")
    if is_input_source(source) or (role in ROLES and output != ""):
        return
    raise ExportError(
        f"{what} reads '{source}', which is neither an input source ({', '.join(INPUT_SOURCES)}), "
        "a named camera's image nor a role output; name a camera's image "
        "'observation.<camera>.rgbd' (or .rgb, .depth) and a role output '<role>.<output>'"
    )


def observation_entries(roles: Mapping[str, RoleSource]) -> tuple[TensorEntry, ...]:
    """One entry per observation source the roles read, named by the source, shaped by the input."""
    found: dict[str, TensorEntry] = {}
    for role, src in roles.items():
        io = validate_onnx(src.onnx, where=f"{role} model {src.onnx}")
        for t in io.inputs:
            source = src.sources.get(t.name, "")
            if not is_input_source(source):
                continue
            known = found.get(source)
            if known is not None and known.shape != t.shape:
                raise ExportError(
                    f"roles read {source} at shapes {list(known.shape)} and {list(t.shape)}; "
                    "every model must take an observation at one shape"
                )
            found[source] = TensorEntry(source, t.shape, t.dtype)
    return tuple(found[k] for k in sorted(found))


def load_observations(path: str | Path, roles: Mapping[str, RoleSource], minimum: int) -> Samples:
    """Observation data keyed by source, or by the model input name that reads the source."""
    aliases = {s: name for src in roles.values() for name, s in src.sources.items()}
    return load_samples(path, observation_entries(roles), minimum=minimum, aliases=aliases)

"""The bundle manifest (`manifest.json`): what each model is, how to feed it, what it promises.

Roles are `encoder`, `predictor`, `policy` and `rollout`. Each input names its *source*: an
observation (`observation.rgbd`, `observation.joint_positions`, ...), a value the runtime's
world-model code feeds (`observation.executed_actions`, `planner.candidates`), or another
role's output (`encoder.latent`), so the inference worker chains roles without knowing the
models. A bundle with a world model also carries the optional `world_model` section
(`edge_runtime.bundle.world_model`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from edge_runtime.bundle.world_model import WorldModelSpec, check_world_model, parse_world_model
from edge_runtime.errors import BundleError
from edge_runtime.fields import Section

SCHEMA_VERSION = 1
ROLES = ("encoder", "predictor", "policy", "rollout")
INTERPOLATIONS = ("linear", "hold")
PRECISIONS = ("fp32", "fp16", "int8")
# The FP32 original of each role rides along (export.bundle_writer): `bench models` compares
# with it, and the device's variant choice treats it as the float baseline.
FP32_REFERENCE = "reference/{role}.fp32.onnx"
# Extra precisions a role may carry as variants, each for the backends that can run it:
# `int8_ort` is ONNX Runtime's own integer ops (export.precision_ort), which TensorRT cannot parse.
BOTH = ("onnxruntime", "tensorrt")
VARIANT_BACKENDS = {"int8_ort": ("onnxruntime",), "int8": BOTH, "fp16": BOTH, "fp32": BOTH}
DTYPES = ("float32", "float16", "int64", "int32", "uint8", "bool")
# What the inference worker can compute from a camera frame and a joint state.
OBSERVATION_SOURCES = (
    "observation.rgbd",  # (1, 4, H, W) float32: normalized RGB, depth in metres / depth_max_m
    "observation.rgb",  # (1, 3, H, W) float32: normalized RGB
    "observation.depth",  # (1, 1, H, W) float32: depth in metres / depth_max_m
    "observation.joint_positions",  # (1, J) float32 radians
)
# Fed by the runtime's world-model code, never computed from a camera frame: the surprise
# monitor feeds the predictor, the planner feeds the rollout graph.
RUNTIME_SOURCES = (
    "observation.executed_actions",  # (1, K, J) float32 rad: targets commanded over the last
    # world-model step, one per action dt, oldest first
    "planner.candidates",  # (N, H, J) float32 rad: absolute joint-target chunks to score
)
INPUT_SOURCES = OBSERVATION_SOURCES + RUNTIME_SOURCES
# A named camera's image on a multi-camera robot (`observation.wrist.rgbd`); the unnamed
# `observation.rgbd` above is the robot's primary camera.
CAMERA_SOURCE = re.compile(r"^observation\.([A-Za-z][A-Za-z0-9_-]*)\.(rgbd|rgb|depth)$")


def is_input_source(source: str) -> bool:
    """Fed by the runtime: a fixed source, or a named camera's image."""
    return source in INPUT_SOURCES or CAMERA_SOURCE.match(source) is not None


def camera_names(sources: Iterable[str]) -> set[str]:
    """The cameras that `observation.<camera>.*` sources name."""
    return {m.group(1) for s in sources if (m := CAMERA_SOURCE.match(s)) is not None}


@dataclass(frozen=True)
class TensorEntry:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    source: str = ""  # inputs only


@dataclass(frozen=True)
class VariantSpec:
    """Another graph of the same role that passed the export gate, in another precision.

    The device picks, for its backend, the fastest of the role's file, its variants and the
    FP32 reference (`edge_runtime.engines.variant_choice`), so a role never runs slower than
    its float original.
    """

    file: str
    precision: str  # a key of VARIANT_BACKENDS

    @property
    def backends(self) -> tuple[str, ...]:
        return VARIANT_BACKENDS[self.precision]


@dataclass(frozen=True)
class RoleSpec:
    file: str
    precision: str
    inputs: tuple[TensorEntry, ...]
    outputs: tuple[TensorEntry, ...]
    golden: str = ""
    tolerance: dict[str, float] = field(default_factory=dict)
    variants: tuple[VariantSpec, ...] = ()


@dataclass(frozen=True)
class Preprocessing:
    image_size: tuple[int, int]  # (height, width) the encoder expects
    rgb_mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rgb_std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    depth_max_m: float = 2.0


@dataclass(frozen=True)
class ActionSpec:
    joint_names: tuple[str, ...]
    limits_rad: tuple[tuple[float, float], ...]
    chunk_length: int
    dt_s: float
    output: str = "policy.actions"  # role.output holding (1, chunk_length, joints)
    units: str = "rad"
    # How the control loop turns the chunk into a target every period: "linear" ramps from
    # action to action; "hold" keeps action k for [t_obs + k*dt, t_obs + (k+1)*dt), i.e. what
    # a policy trained on held targets (the reference models) saw in training.
    interpolation: str = "linear"


@dataclass(frozen=True)
class Manifest:
    roles: dict[str, RoleSpec]
    preprocessing: Preprocessing
    action: ActionSpec
    control_period_s: float
    files: dict[str, str]  # relative path -> sha256 of every file but manifest and signature
    exporter: dict[str, str] = field(default_factory=dict)
    target_tensorrt: str = "10.3"
    created_utc: str = ""
    schema_version: int = SCHEMA_VERSION
    world_model: WorldModelSpec | None = None

    def to_json(self) -> str:
        data = asdict(self)
        if data["world_model"] is None:
            del data["world_model"]  # policy-only bundles keep the manifest they always had
        for role in data["roles"].values():
            if not role["variants"]:
                del role["variants"]  # so do bundles without precision variants
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str, where: str = "manifest.json") -> Manifest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BundleError(f"{where} is not valid JSON ({exc}); re-export the bundle") from exc
        if not isinstance(data, dict):
            raise BundleError(f"{where} must hold a JSON object; re-export the bundle")
        return _parse(data, where)


def _tensor(raw: Any, where: str, label: str, is_input: bool) -> TensorEntry:
    sec = Section({"t": raw}, "t", where, required=True, label=label, error=BundleError)
    shape = tuple(int(v) for v in sec.numbers("shape"))
    if any(d <= 0 for d in shape):
        raise BundleError(
            f"{where}: {label} has shape {list(shape)}; every dimension must be static"
        )
    entry = TensorEntry(
        name=sec.string("name"),
        shape=shape,
        dtype=sec.choice("dtype", DTYPES, default="float32"),
        source=sec.string("source") if is_input else sec.string("source", default=""),
    )
    if entry.source and not is_input:
        raise BundleError(f"{where}: {label} is an output and cannot have a source")
    sec.done()
    return entry


def _role(name: str, raw: Any, where: str) -> RoleSpec:
    sec = Section({name: raw}, name, where, required=True, label=f"roles.{name}", error=BundleError)
    inputs = sec._get("inputs", [])
    outputs = sec._get("outputs", [])
    if not isinstance(inputs, list) or not inputs or not isinstance(outputs, list) or not outputs:
        raise BundleError(f"{where}: roles.{name} needs non-empty 'inputs' and 'outputs' lists")
    spec = RoleSpec(
        file=sec.string("file"),
        precision=sec.choice("precision", PRECISIONS),
        inputs=tuple(
            _tensor(t, where, f"roles.{name}.inputs[{i}]", True) for i, t in enumerate(inputs)
        ),
        outputs=tuple(
            _tensor(t, where, f"roles.{name}.outputs[{i}]", False) for i, t in enumerate(outputs)
        ),
        golden=sec.string("golden", default=""),
        tolerance={k: float(v) for k, v in sec.table("tolerance", default={}).items()},
        variants=_variants(sec._get("variants", []), where, name),
    )
    sec.done()
    return spec


def _variants(raw: Any, where: str, role: str) -> tuple[VariantSpec, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
        raise BundleError(f"{where}: roles.{role}.variants must be a list of tables")
    found = []
    for i, item in enumerate(raw):
        label = f"roles.{role}.variants[{i}]"
        sec = Section({"v": item}, "v", where, required=True, label=label, error=BundleError)
        found.append(VariantSpec(sec.string("file"), sec.choice("precision", VARIANT_BACKENDS)))
        sec.done()
    return tuple(found)


def _parse(data: dict[str, Any], where: str) -> Manifest:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            f"{where}: schema_version {version!r} is not supported (this runtime reads "
            f"{SCHEMA_VERSION}); re-export the bundle with a matching exporter or upgrade "
            "edge-runtime"
        )
    roles_raw = data.get("roles")
    if not isinstance(roles_raw, dict) or "policy" not in roles_raw:
        raise BundleError(f"{where}: 'roles' must include a 'policy' model")
    for role in roles_raw:
        if role not in ROLES:
            raise BundleError(f"{where}: unknown role '{role}'; roles are {', '.join(ROLES)}")
    roles = {name: _role(name, raw, where) for name, raw in roles_raw.items()}

    preprocessing = parse_preprocessing(data, where, BundleError)
    action = parse_action(data, where, BundleError)

    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise BundleError(f"{where}: 'files' must map every bundle file to its sha256")
    _check_wiring(roles, action, where)
    world_model = None
    if "world_model" in data:
        world_model = parse_world_model(data, where)
        check_world_model(
            world_model,
            {r: {t.name: t.shape for t in spec.inputs} for r, spec in roles.items()},
            {r: {t.name: t.shape for t in spec.outputs} for r, spec in roles.items()},
            action.chunk_length,
            len(action.joint_names),
            action.dt_s,
            where,
        )
    return Manifest(
        roles=roles,
        preprocessing=preprocessing,
        action=action,
        control_period_s=float(data.get("control_period_s", 0.0)),
        files=dict(files),
        exporter={str(k): str(v) for k, v in dict(data.get("exporter", {})).items()},
        target_tensorrt=str(data.get("target_tensorrt", "")),
        created_utc=str(data.get("created_utc", "")),
        schema_version=SCHEMA_VERSION,
        world_model=world_model,
    )


def _check_wiring(roles: dict[str, RoleSpec], action: ActionSpec, where: str) -> None:
    outputs = {f"{role}.{t.name}" for role, spec in roles.items() for t in spec.outputs}
    for role, spec in roles.items():
        for t in spec.inputs:
            if not is_input_source(t.source) and t.source not in outputs:
                raise BundleError(
                    f"{where}: roles.{role} input '{t.name}' has source '{t.source}', which is "
                    f"neither an input source ({', '.join(INPUT_SOURCES)}) nor a role output"
                )
    if action.output not in outputs:
        raise BundleError(f"{where}: action.output '{action.output}' is not an output of any role")


def parse_preprocessing(data: dict[str, Any], where: str, error: type[Exception]) -> Preprocessing:
    """The `preprocessing` table of a manifest or an export spec."""
    pre = Section(data, "preprocessing", where, required=True, error=error)
    size = pre.numbers("image_size", 2)
    preprocessing = Preprocessing(
        image_size=(int(size[0]), int(size[1])),
        rgb_mean=tuple(pre.numbers("rgb_mean", 3, default=[0.0, 0.0, 0.0])),  # type: ignore[arg-type]
        rgb_std=tuple(pre.numbers("rgb_std", 3, default=[1.0, 1.0, 1.0])),  # type: ignore[arg-type]
        depth_max_m=pre.number("depth_max_m", default=2.0, positive=True),
    )
    pre.done()
    return preprocessing


def _is_pair_of_numbers(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def parse_action(data: dict[str, Any], where: str, error: type[Exception]) -> ActionSpec:
    """The `action` table of a manifest or an export spec."""
    act = Section(data, "action", where, required=True, error=error)
    names = tuple(act.string_list("joint_names"))
    limits_raw = act._get("limits_rad", None)
    if (
        not isinstance(limits_raw, list)
        or len(limits_raw) != len(names)
        or not all(_is_pair_of_numbers(pair) for pair in limits_raw)
    ):
        raise error(f"{where}: action.limits_rad must hold one [min, max] per joint name")
    action = ActionSpec(
        joint_names=names,
        limits_rad=tuple((float(lo), float(hi)) for lo, hi in limits_raw),
        chunk_length=act.integer("chunk_length", minimum=1),
        dt_s=act.number("dt_s", positive=True),
        output=act.string("output", default="policy.actions"),
        units=act.choice("units", ("rad",), default="rad"),
        interpolation=act.choice("interpolation", INTERPOLATIONS, default="linear"),
    )
    act.done()
    return action


def role_order(
    inputs: Mapping[str, Sequence[TensorEntry]],
    wanted: Iterable[str] | None = None,
    error: type[Exception] = BundleError,
) -> list[str]:
    """Roles in dependency order: each after the roles whose outputs it reads.

    With `wanted`, only those roles and what they read (a policy skips the predictor); without
    it, every role. The runtime (BundlePolicy) and the exporter (calibration, accuracy gate)
    share this, so both run a bundle's roles the same way.
    """

    def producer(source: str) -> str | None:
        if is_input_source(source):
            return None
        if "." not in source:
            raise error(
                f"input source '{source}' is neither an input source "
                f"({', '.join(INPUT_SOURCES)}) nor '<role>.<output>'"
            )
        return source.split(".", 1)[0]

    needed = set(inputs) if wanted is None else set()
    stack = [] if wanted is None else list(wanted)
    while stack:
        role = stack.pop()
        if role in needed:
            continue
        if role not in inputs:
            raise error(f"role '{role}' is read by another role but is not in the bundle")
        needed.add(role)
        stack.extend(p for t in inputs[role] if (p := producer(t.source)) is not None)
    order: list[str] = []
    pending = {role: inputs[role] for role in needed}
    while pending:
        ready = [
            role
            for role, entries in pending.items()
            if all(producer(t.source) in (None, *order) for t in entries)
        ]
        if not ready:
            raise error(
                f"roles {sorted(pending)} read each other's outputs in a cycle or from a role "
                "that is not in the bundle; fix the input sources"
            )
        for role in sorted(ready):
            order.append(role)
            del pending[role]
    return order

"""The export config (TOML): precision per role, calibration split, accuracy-gate thresholds.

Defaults match the issue's targets (cosine >= 0.999 mean, action error <= 1% of joint range), so
an export without a config file is already gated. Per-role tables override the `[gate]` defaults:

    [precision]
    encoder = "int8"
    policy = "int8"
    [calibration]
    min_samples = 16
    held_out_fraction = 0.25
    [quantize]
    float_ops = ["Softmax"]  # op types INT8 graphs keep in float
    float_nodes = []         # node names INT8 graphs keep in float
    float_outputs = true     # each output's last weighted layer and what follows stay float
    auto_mixed = false       # INT8 roles keep only the layers the gate needs in float
    [gate]
    cosine_mean = 0.999     # minimum over held-out samples, mean cosine similarity
    cosine_min = 0.99       # minimum, worst single sample
    max_abs = 0.25          # maximum absolute error on any output element (default: off)
    action_error = 0.01     # maximum, fraction of each joint's range (action output only)
    [gate.encoder]
    max_abs = 0.5
    [golden]
    samples = 4
    [task_gate]             # closed loop vs FP32 on paired episodes (export/task_gate.py)
    episodes = 200
    max_drop_points = 2.0
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edge_runtime.bundle.manifest import PRECISIONS, ROLES
from edge_runtime.fields import Section, load_toml
from export.errors import ExportError
from export.task_gate import TaskGateSettings, parse_task_gate


@dataclass(frozen=True)
class GateThresholds:
    cosine_mean: float = 0.999
    cosine_min: float = 0.99
    # Off by default: outputs have arbitrary scales (a latent may span +-30), so an absolute
    # limit only makes sense per model; cosine and the action error are scale-aware.
    max_abs: float | None = None
    action_error: float = 0.01


@dataclass(frozen=True)
class ExportConfig:
    precision: dict[str, str] = field(default_factory=dict)  # role -> int8|fp16|fp32
    min_calibration_samples: int = 16
    held_out_fraction: float = 0.25
    gate_default: GateThresholds = GateThresholds()
    gate_roles: dict[str, GateThresholds] = field(default_factory=dict)
    golden_samples: int = 4
    float_ops: tuple[str, ...] = ()  # op types INT8 graphs keep in float
    float_nodes: tuple[str, ...] = ()  # node names INT8 graphs keep in float
    float_outputs: bool = True  # keep each output's last weighted layer (and after) in float
    task_gate: TaskGateSettings = field(default_factory=TaskGateSettings)
    auto_mixed: bool = False  # sensitivity -> fewest float layers (export.mixed_precision)
    # Role -> layers the auto-mixed selection keeps in float on top of its own choice: set by
    # a task-gate retry (export.task_recheck), never by the TOML.
    mixed_float_layers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def gate(self, role: str) -> GateThresholds:
        return self.gate_roles.get(role, self.gate_default)

    def precision_for(self, role: str, default: str = "fp32") -> str:
        return self.precision.get(role, default)


def load_export_config(path: str | Path | None) -> ExportConfig:
    """Read an export config; `None` gives the defaults."""
    if path is None:
        return ExportConfig()
    path = Path(path)
    data = load_toml(path, ExportError, "export config", "pass --config with a TOML file")
    return parse_export_config(data, path.name)


def parse_export_config(data: dict[str, Any], where: str) -> ExportConfig:
    for key in data:
        if key not in ("precision", "calibration", "quantize", "gate", "golden", "task_gate"):
            raise ExportError(
                f"{where}: unknown section [{key}]; sections are precision, calibration, "
                "quantize, gate, golden, task_gate"
            )
    prec = Section(data, "precision", where, error=ExportError)
    precision = {role: prec.choice(role, PRECISIONS) for role in ROLES if role in prec.data}
    prec.done()
    cal = Section(data, "calibration", where, error=ExportError)
    min_samples = cal.integer("min_samples", default=16, minimum=1)
    held_out = cal.number("held_out_fraction", default=0.25, minimum=0.05, maximum=0.9)
    cal.done()
    quant = Section(data, "quantize", where, error=ExportError)
    float_ops = tuple(quant.string_list("float_ops", default=[]))
    float_nodes = tuple(quant.string_list("float_nodes", default=[]))
    float_outputs = quant.boolean("float_outputs", default=True)
    auto_mixed = quant.boolean("auto_mixed", default=False)
    quant.done()
    gate_raw = dict(data.get("gate", {})) if isinstance(data.get("gate"), dict) else None
    if gate_raw is None and "gate" in data:
        raise ExportError(f"{where}: [gate] must be a table")
    gate_raw = gate_raw or {}
    role_tables = {r: gate_raw.pop(r) for r in list(gate_raw) if r in ROLES}
    default = _thresholds({"gate": gate_raw}, "gate", where, GateThresholds())
    roles = {
        r: _thresholds({r: t}, r, where, default, label=f"[gate.{r}]")
        for r, t in role_tables.items()
    }
    gold = Section(data, "golden", where, error=ExportError)
    golden_samples = gold.integer("samples", default=4, minimum=1, maximum=64)
    gold.done()
    return ExportConfig(
        precision=precision,
        min_calibration_samples=min_samples,
        held_out_fraction=held_out,
        gate_default=default,
        gate_roles=roles,
        golden_samples=golden_samples,
        float_ops=float_ops,
        float_nodes=float_nodes,
        float_outputs=float_outputs,
        task_gate=parse_task_gate(data, where),
        auto_mixed=auto_mixed,
    )


def _thresholds(
    data: dict[str, Any],
    name: str,
    where: str,
    base: GateThresholds,
    label: str | None = None,
) -> GateThresholds:
    sec = Section(data, name, where, label=label, error=ExportError)
    values = {
        "cosine_mean": sec.number("cosine_mean", default=base.cosine_mean, minimum=-1, maximum=1),
        "cosine_min": sec.number("cosine_min", default=base.cosine_min, minimum=-1, maximum=1),
        "max_abs": (
            sec.number("max_abs", positive=True) if "max_abs" in sec.data else base.max_abs
        ),
        "action_error": sec.number("action_error", default=base.action_error, positive=True),
    }
    sec.done()
    return replace(base, **values)

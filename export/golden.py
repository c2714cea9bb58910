"""`golden/<role>.npz`: inputs and the outputs the bundled model must reproduce on the device.

Keys: `input/<name>` and `output/<name>` stacked on axis 0 (N samples, each batch 1), plus
`fp32/<name>` (the FP32 model's outputs on the same inputs) so `verify` can also show how far
the device is from the unquantized model. Outputs come from the bundled graph in ONNX Runtime:
the device engine is checked against the same graph, not against FP32.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.errors import ExportError


@dataclass(frozen=True)
class Golden:
    inputs: dict[str, np.ndarray]  # name -> (N, *input shape)
    outputs: dict[str, np.ndarray]  # name -> (N, *output shape)
    fp32: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(next(iter(self.inputs.values())).shape[0])


def write_golden(path: Path, golden: Golden) -> None:
    arrays = {f"input/{k}": v for k, v in golden.inputs.items()}
    arrays.update({f"output/{k}": v for k, v in golden.outputs.items()})
    arrays.update({f"fp32/{k}": v for k, v in golden.fp32.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:  # np.savez on a path would append .npz to odd names
        np.savez_compressed(handle, **arrays)


def load_golden(path: Path) -> Golden:
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise ExportError(
            f"golden data {path} is unreadable ({exc}); re-export the bundle"
        ) from exc
    parts: dict[str, dict[str, np.ndarray]] = {"input": {}, "output": {}, "fp32": {}}
    for key, value in raw.items():
        kind, _, name = key.partition("/")
        if kind in parts and name:
            parts[kind][name] = value
    if not parts["input"] or not parts["output"]:
        raise ExportError(f"golden data {path} holds no input/ or output/ arrays; re-export it")
    return Golden(parts["input"], parts["output"], parts["fp32"])

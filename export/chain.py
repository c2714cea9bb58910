"""Run a bundle's roles in dependency order, as the inference worker will.

Each role input names a source: an observation (`observation.rgbd`) or another role's output
(`encoder.latent`). Export uses the same wiring to feed downstream roles realistic inputs for
calibration and the accuracy gate (a policy is calibrated on the encoder's latents, not noise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from edge_runtime.bundle.manifest import TensorEntry, role_order
from export.errors import ExportError

RunFn = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def run_chain(
    runners: Mapping[str, RunFn],
    inputs: Mapping[str, tuple[TensorEntry, ...]],
    observation: Mapping[str, np.ndarray],
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """(feeds per role, every value by source name) for one observation (batch-1 arrays)."""
    values: dict[str, np.ndarray] = dict(observation)
    feeds: dict[str, dict[str, np.ndarray]] = {}
    for role in role_order(inputs, error=ExportError):
        feed = {}
        for entry in inputs[role]:
            if entry.source not in values:
                raise ExportError(
                    f"role {role} input '{entry.name}' reads '{entry.source}', which the "
                    f"observation data does not hold (it has {sorted(observation)})"
                )
            feed[entry.name] = np.asarray(values[entry.source], dtype=np.dtype(entry.dtype))
        feeds[role] = feed
        for name, value in runners[role](feed).items():
            values[f"{role}.{name}"] = value
    return feeds, values

"""Calibration and held-out data: an `.npz` with one array per model input, samples on axis 0.

Each array holds N samples shaped like the input (batch 1) or like the input without its batch
axis, so `obs` for a (1, 4, 64, 64) input may be (N, 4, 64, 64) or (N, 1, 4, 64, 64). Too few
samples make INT8 scales noise, so a minimum is enforced with a sentence saying how many.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.bundle.manifest import TensorEntry
from export.errors import ExportError

MIN_SAMPLES = 16


@dataclass(frozen=True)
class Samples:
    """N feed dicts for one model, stored as stacked arrays (name -> (N, *input_shape))."""

    arrays: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(next(iter(self.arrays.values())).shape[0]) if self.arrays else 0

    def feed(self, index: int) -> dict[str, np.ndarray]:
        return {name: a[index] for name, a in self.arrays.items()}

    def feeds(self) -> Iterator[dict[str, np.ndarray]]:
        for i in range(len(self)):
            yield self.feed(i)

    def split(self, held_out_fraction: float) -> tuple[Samples, Samples]:
        """(calibration, held-out): the held-out part is the tail, never seen by calibration."""
        n = len(self)
        held = max(1, round(n * held_out_fraction))
        head = {k: v[: n - held] for k, v in self.arrays.items()}
        tail = {k: v[n - held :] for k, v in self.arrays.items()}
        return Samples(head), Samples(tail)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, **self.arrays)


def stack_feeds(feeds: list[dict[str, np.ndarray]]) -> Samples:
    """Samples from a list of batch-1 feed dicts (e.g. recorded by running the pipeline)."""
    if not feeds:
        return Samples({})
    return Samples({k: np.stack([f[k] for f in feeds]) for k in feeds[0]})


def load_samples(
    path: str | Path,
    inputs: tuple[TensorEntry, ...],
    minimum: int = MIN_SAMPLES,
    aliases: dict[str, str] | None = None,
) -> Samples:
    """Read an `.npz` for a model with these inputs; each sample becomes a batch-1 array.

    `aliases` maps an entry name to another accepted key (an observation source may also be
    stored under the model input name that reads it).
    """
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"calibration data {path} does not exist; record or generate an .npz")
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ExportError(f"{path} is not a readable .npz ({exc}); regenerate it") from exc
    arrays: dict[str, np.ndarray] = {}
    for entry in inputs:
        alias = (aliases or {}).get(entry.name, "")
        if entry.name not in raw and alias in raw:
            raw[entry.name] = raw[alias]
        if entry.name not in raw:
            raise ExportError(
                f"{path} has no array '{entry.name}' (it holds {sorted(raw)}); save one array "
                "per model input, named like the input"
            )
        array = raw[entry.name]
        sample_shape = tuple(entry.shape)
        if tuple(array.shape[1:]) == sample_shape[1:]:
            array = array[:, None]
        if tuple(array.shape[1:]) != sample_shape:
            raise ExportError(
                f"{path}: '{entry.name}' has shape {list(array.shape)}; expected (N, "
                f"{', '.join(str(d) for d in sample_shape[1:])}) samples for input "
                f"{list(sample_shape)}"
            )
        arrays[entry.name] = np.ascontiguousarray(array, dtype=np.dtype(entry.dtype))
    counts = {len(a) for a in arrays.values()}
    if len(counts) != 1:
        raise ExportError(f"{path}: arrays hold different sample counts {sorted(counts)}")
    samples = Samples(arrays)
    if len(samples) < minimum:
        raise ExportError(
            f"{path} holds {len(samples)} samples; calibration needs at least {minimum} "
            "(record more data)"
        )
    return samples

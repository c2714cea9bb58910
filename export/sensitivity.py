"""Which layers of an INT8 graph cost accuracy, and the fewest to keep in float.

Sensitivity is measured one layer at a time: the graph with only that layer's inputs
quantized (everything else float), compared with the FP32 outputs on a few samples. One
quantized model serves every measurement (`export.qdq_float`), so the sweep costs one session
per layer, not one calibration per layer. Layers are then kept in float most sensitive first:
a binary search finds the fewest that pass the output gate, and a pruning pass drops any
that the rest make unnecessary (errors do not add up exactly).

`recheck_with_judge` is the hook for checks too slow for every candidate (the closed-loop task
gate): it walks a short ladder of candidates, most quantized first, and keeps the first the
judge accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from export.accuracy import cosine_per_sample
from export.qdq_float import keep_float, quantized_layers

Feeds = Sequence[dict[str, np.ndarray]]
Outputs = dict[str, np.ndarray]
# True when the graph keeping these layers in float is good enough.
PassCheck = Callable[[tuple[str, ...]], bool]
# The task-gate hook: (float layers, the ONNX ModelProto with them in float) -> accepted?
Judge = Callable[[tuple[str, ...], Any], bool]


@dataclass(frozen=True)
class LayerSensitivity:
    layer: str
    op_type: str
    # 1 - worst output's mean cosine with only this layer quantized; None: not measured
    # (the whole graph in INT8 passed, so no layer needed ranking)
    error_alone: float | None


def run_model(model: Any, feeds: Feeds) -> Outputs:
    """Stacked outputs of an in-memory ONNX model over `feeds` (the runtime's session options,
    but basic graph optimizations: a sweep opens a session per layer, and the full level's
    fusions cost more to plan than a few runs take; the gate itself uses the full level)."""
    import onnxruntime as ort

    from edge_runtime.engines.ort_options import session_options

    options = session_options(1, quiet=True)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session = ort.InferenceSession(model.SerializeToString(), options, ["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    runs = [session.run(names, dict(feed)) for feed in feeds]
    return {name: np.stack([r[i] for r in runs]) for i, name in enumerate(names)}


def output_error(reference: Outputs, test: Outputs) -> float:
    """1 - the worst output's mean cosine: 0 is identical, the gate allows 1 - cosine_mean."""
    worst = min(float(cosine_per_sample(reference[k], test[k]).mean()) for k in reference)
    return 1.0 - worst


def measure_sensitivity(
    int8_model: Any, feeds: Feeds, reference: Outputs
) -> list[LayerSensitivity]:
    """Each quantized layer alone in int8, most harmful first."""
    op_of = {n.name: n.op_type for n in int8_model.graph.node}
    layers = quantized_layers(int8_model)
    found = []
    # Data-movement ops (Slice, Concat, Reshape) count too: their Q/DQ pairs round to their
    # own scale, and one before an output head can decide the gate.
    for layer in layers:
        alone = keep_float(int8_model, [other for other in layers if other != layer])
        error = output_error(reference, run_model(alone, feeds))
        found.append(LayerSensitivity(layer, op_of[layer], error))
    return sorted(found, key=lambda s: s.error_alone or 0.0, reverse=True)


def choose_float_layers(
    ranked: Sequence[LayerSensitivity], passes: PassCheck, prune_checks: int = 8
) -> tuple[str, ...] | None:
    """The fewest layers (most sensitive first) to keep in float so `passes`; None if even
    all of them in float fails (then the role is not an INT8 role)."""
    names = [s.layer for s in ranked]
    if passes(()):
        return ()
    if not passes(tuple(names)):
        return None
    lo, hi = 0, len(names)  # passes(names[:hi]) holds, passes(names[:lo]) does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(tuple(names[:mid])):
            hi = mid
        else:
            lo = mid
    chosen = names[:hi]
    for layer in reversed(names[: hi - 1][-prune_checks:]):  # least sensitive first
        trial = tuple(n for n in chosen if n != layer)
        if passes(trial):
            chosen = list(trial)
    return tuple(chosen)


def candidate_ladder(
    ranked: Sequence[LayerSensitivity],
    chosen: Sequence[str],
    steps: int = 3,
    sizes: Sequence[int] | None = None,
) -> list[tuple[str, ...]]:
    """`chosen`, then `chosen` plus the next most sensitive layers, one more per step (or
    `sizes` more: 1, 4, 16 reaches a layer deep in the ranking in three steps)."""
    rest = [s.layer for s in ranked if s.layer not in set(chosen)]
    counts = range(steps) if sizes is None else sizes
    return [tuple(chosen) + tuple(rest[:k]) for k in counts if k <= len(rest)]


def recheck_with_judge(
    int8_model: Any, ladder: Sequence[tuple[str, ...]], judge: Judge
) -> tuple[str, ...] | None:
    """The first candidate (most quantized first) the judge accepts, or None for none.

    For the closed-loop task gate: call it with `candidate_ladder(...)` and a judge that runs
    the bundle's episodes with the given graph in place of the role's model.
    """
    for float_layers in ladder:
        if judge(float_layers, keep_float(int8_model, float_layers)):
            return float_layers
    return None

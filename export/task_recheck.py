"""When the task gate refuses an auto-mixed bundle: retry with more layers in float.

The output gate chose each INT8 role's fewest float layers (`export.mixed_precision`); the
closed-loop task gate (`export.task_gate`) may still refuse that bundle, as it refuses the
analytic policy whose goal map is all INT8. Before refusing, the exporter tries the next
candidates of `sensitivity.candidate_ladder`: each auto-mixed role's chosen float layers plus
its next 1, then 4, then 16 most sensitive layers (every role together), exporting the bundle
again with them in float (`ExportConfig.mixed_float_layers`). The whole gate (output gate,
goldens, task gate) judges each retry, so what ships is what was judged. Only if every step is
refused does the export refuse, with the last step's reports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from export.config import ExportConfig
from export.errors import TaskGateRefusedError
from export.sensitivity import candidate_ladder

log = logging.getLogger(__name__)
# More float layers per retry; each retry costs another export and task gate.
RECHECK_SIZES = (1, 4, 16)
Written = TypeVar("Written")
FloatLayers = dict[str, tuple[str, ...]]  # role -> layers kept in float


def next_float_layers(
    mixed: Mapping[str, Any], sizes: Sequence[int] = RECHECK_SIZES
) -> list[FloatLayers]:
    """The retries, fewest float layers first; a step that adds nothing is left out."""
    ladders: dict[str, list[tuple[str, ...]]] = {}
    for role, result in mixed.items():
        if result.float_layers is None:
            continue  # that role failed the output gate even all in float: nothing to add
        ranked = result.sensitivity_ranking()
        ladders[role] = candidate_ladder(ranked, result.float_layers, sizes=sizes)
    steps: list[FloatLayers] = []
    for k in range(len(sizes)):
        step = {role: ladder[k] for role, ladder in ladders.items() if k < len(ladder)}
        if step and step not in steps:
            steps.append(step)
    return steps


def write_with_recheck(write: Callable[[ExportConfig], Written], config: ExportConfig) -> Written:
    """`write(config)`; when the task gate refuses an auto-mixed bundle, the next candidates."""
    try:
        return write(config)
    except TaskGateRefusedError as refused:
        last = refused
        for layers in next_float_layers(refused.mixed):
            log.warning("task gate refused the bundle; exporting again with %s in float", layers)
            try:
                return write(replace(config, mixed_float_layers=layers))
            except TaskGateRefusedError as again:
                last = again
        raise last from None

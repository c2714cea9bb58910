"""Take layers of a Q/DQ graph back to float without quantizing again.

Our INT8 graphs give every consumer its own Q/DQ pair (`DedicatedQDQPair`) and pass weights
through a pair too (`AddQDQPairToWeight`), so "layer X in float" means exactly "X reads the
tensors its pairs were made from". Rewiring those inputs and dropping the orphaned pairs gives
the graph `quantize_static(nodes_to_exclude=[X])` would give, minus a calibration pass: the
sensitivity sweep builds dozens of such graphs from one quantized model in milliseconds each.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})


def quantized_layers(model: Any) -> list[str]:
    """Names of the nodes that read at least one dequantized tensor, in graph order."""
    dq_outputs = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    return [
        n.name
        for n in model.graph.node
        if n.op_type not in QDQ_OPS and any(i in dq_outputs for i in n.input)
    ]


def keep_float(model: Any, layers: Iterable[str]) -> Any:
    """A copy of `model` where each node named in `layers` reads float inputs (no Q/DQ)."""
    wanted = set(layers)
    out = copy.deepcopy(model)
    producer = {o: n for n in out.graph.node for o in n.output}
    for node in out.graph.node:
        if node.name not in wanted:
            continue
        for i, name in enumerate(node.input):
            source = _float_source(name, producer)
            if source is not None:
                node.input[i] = source
    _drop_unused_qdq(out.graph)
    return out


def _float_source(tensor: str, producer: dict[str, Any]) -> str | None:
    """The float tensor behind `tensor` when it is DQ(Q(float)), else None."""
    dq = producer.get(tensor)
    if dq is None or dq.op_type != "DequantizeLinear":
        return None
    q = producer.get(dq.input[0])
    if q is None or q.op_type != "QuantizeLinear":
        return None  # an int8 initializer: no float original in the graph
    return str(q.input[0])


def _drop_unused_qdq(graph: Any) -> None:
    """Remove Q/DQ nodes nobody reads, until none is left (a DQ first, then its Q).

    Rebuilds the node list once per round: protobuf's `remove` is linear per call, which made
    this quadratic (8 s of a 4-layer transformer's sweep).
    """
    while True:
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        kept = [n for n in graph.node if n.op_type not in QDQ_OPS or n.output[0] in used]
        if len(kept) == len(graph.node):
            break
        del graph.node[:]
        graph.node.extend(kept)
    used = {i for n in graph.node for i in n.input}
    kept_inits = [init for init in graph.initializer if init.name in used]
    if len(kept_inits) != len(graph.initializer):
        del graph.initializer[:]
        graph.initializer.extend(kept_inits)

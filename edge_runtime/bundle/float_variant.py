"""A bundle's FP32 variant: the same bundle with each role's float original in place.

`edgerun export` ships every role's FP32 graph in `reference/<role>.fp32.onnx` (hashed in the
manifest, so the reader has verified it) beside the quantized graph the runtime loads. Swapping
those in gives the model the export started from, with the bundle's own preprocessing, wiring
and action spec: exactly what a closed-loop comparison "candidate vs FP32" needs, on the robot
or in the simulator, without the exporter's torch or the training checkpoint.
"""

from __future__ import annotations

from dataclasses import replace

from edge_runtime.bundle.manifest import FP32_REFERENCE
from edge_runtime.bundle.reader import Bundle
from edge_runtime.errors import BundleError


def float_variant(bundle: Bundle) -> Bundle:
    """`bundle` with every role running its FP32 original; refused if one is not shipped."""
    manifest = bundle.manifest
    missing = [r for r in manifest.roles if FP32_REFERENCE.format(role=r) not in manifest.files]
    if missing:
        raise BundleError(
            f"{bundle.root} has no FP32 variant: its manifest lists no "
            f"{FP32_REFERENCE.format(role=missing[0])} (bundles written by `edgerun export` "
            "carry one per role); re-export it, or evaluate it without --compare fp32"
        )
    # No precision variants either: the device's variant choice would otherwise pick a
    # faster quantized one and "fp32" would not be the float original.
    roles = {
        role: replace(spec, file=FP32_REFERENCE.format(role=role), precision="fp32", variants=())
        for role, spec in manifest.roles.items()
    }
    return replace(bundle, manifest=replace(manifest, roles=roles))

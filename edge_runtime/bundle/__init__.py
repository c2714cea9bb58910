"""Model bundles: the manifest schema, integrity and signature checks (reading side).

The export package writes bundles with the same `Manifest` class; the runtime only reads them.
"""

from edge_runtime.bundle.manifest import (
    OBSERVATION_SOURCES,
    ActionSpec,
    Manifest,
    Preprocessing,
    RoleSpec,
    TensorEntry,
)
from edge_runtime.bundle.reader import Bundle, open_bundle

__all__ = [
    "OBSERVATION_SOURCES",
    "ActionSpec",
    "Bundle",
    "Manifest",
    "Preprocessing",
    "RoleSpec",
    "TensorEntry",
    "open_bundle",
]

"""Monitor thresholds computed once per set of models, not on every export.

Calibrating the surprise monitor runs hundreds of closed-loop episodes (minutes). The
thresholds depend only on the exported models, the calibration settings and the code that
scores frames, so the result is kept under a key made of exactly those: the sha256 of every
model file, the settings, and the sha256 of the runtime's scoring modules. Any change to one
of them is a cache miss and a fresh calibration; a hit reuses numbers that were calibrated on
byte-identical models by byte-identical code. The reference checkpoint's entry is committed,
so `make demo` on a fresh clone does not spend minutes recalibrating what is already known.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from edge_runtime.bundle.world_model import MonitorSpec, parse_monitor
from edge_runtime.errors import BundleError

log = logging.getLogger(__name__)

CACHE = Path(__file__).resolve().parents[1] / "reference" / "checkpoints" / "monitor.json"
# The code that turns an episode into scores: the monitor, and how the episode is executed.
SCORING_MODULES = (
    "edge_runtime.world_model.monitor", "edge_runtime.world_model.relight",
    "edge_runtime.world_model.surprise", "edge_runtime.world_model.executed",
    "edge_runtime.sim.episode_runner", "edge_runtime.sim.control_emulation",
    "edge_runtime.loop.chunks", "edge_runtime.loop.safety",
)  # fmt: skip


def cache_key(models: dict[str, str], settings: dict[str, Any]) -> str:
    """sha256 over the model hashes, the calibration settings and the scoring code."""
    import importlib.util

    code = {}
    for module in SCORING_MODULES:
        spec = importlib.util.find_spec(module)
        assert spec is not None, module
        assert spec.origin is not None, module
        code[module] = hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()
    blob = json.dumps({"models": models, "settings": settings, "code": code}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def load(key: str, path: Path = CACHE) -> MonitorSpec | None:
    """The cached monitor section for `key`, or None (no cache, another key, unreadable)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry.get("key") != key:
            return None
        return parse_monitor(entry["monitor"], str(path))
    except (OSError, ValueError, KeyError, TypeError, BundleError):
        return None


def store(key: str, spec: MonitorSpec, path: Path = CACHE) -> None:
    """Keep `spec` for `key` (best effort: a read-only install just recalibrates next time)."""
    try:
        text = json.dumps({"key": key, "monitor": asdict(spec)}, indent=2, sort_keys=True)
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        log.info("monitor calibration not cached (%s): the next export recalibrates", exc)

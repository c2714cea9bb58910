"""Pages other packages add to the console, named here without importing them.

edge_runtime may not import calibration or export (the package DAG is one-way), yet the
console should show their tools. So a package registers its pages as a dotted
`"module:function"` when its CLI plugin loads (calibration.cli.register does), and the
console imports them only when it starts. `function(app, context)` adds aiohttp routes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PageSet:
    target: str  # "package.module:function"
    title: str  # the navigation link
    path: str  # where the link points


_REGISTERED: dict[str, PageSet] = {}


def add_pages(target: str, title: str, path: str) -> None:
    """Register a page set (idempotent: a plugin registered twice appears once)."""
    _REGISTERED[target] = PageSet(target, title, path)


def registered() -> list[PageSet]:
    return list(_REGISTERED.values())


_DEVICE_STEPS: list[str] = []


def add_device_steps(target: str) -> None:
    """Name the `DeviceSteps` deploy takes (`export.field_steps:DEVICE_STEPS`, the CLI's)."""
    if target not in _DEVICE_STEPS:
        _DEVICE_STEPS.append(target)


def has_device_steps() -> bool:
    return bool(_DEVICE_STEPS)


def device_steps() -> Any | None:
    """The registered deploy steps, imported now; None when no package registered them."""
    for target in _DEVICE_STEPS:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)
    return None

"""Lazy classes by config `type`: a registry entry is ("module", "Class", "extra").

Following python-can, the module is imported only when a config names it, so a robot without
a RealSense never imports pyrealsense2, and the control process imports only its own motor
driver. A failed import becomes one sentence naming the missing extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from edge_runtime.errors import ConfigError


def load_class(entry: tuple[str, str, str], what: str) -> Any:
    module, name, extra = entry
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        hint = f"; install it with `pip install edge-runtime[{extra}]`" if extra else ""
        raise ConfigError(
            f"{what} needs {exc.name or module}, which is not installed{hint}"
        ) from exc

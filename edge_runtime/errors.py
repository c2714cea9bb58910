"""One exception tree for the runtime. The CLI prints any of these as one sentence, exit 2.

Messages say what is wrong, where, and how to fix it. Foreign exceptions are wrapped with
`raise ... from` so the cause stays in the log.
"""

from __future__ import annotations


class EdgeRuntimeError(Exception):
    """Root of every error the runtime raises on purpose."""

    exit_code = 2


class ConfigError(EdgeRuntimeError, ValueError):
    """The robot config (TOML) is missing, malformed or has a bad value."""


class BundleError(EdgeRuntimeError):
    """A model bundle is missing, malformed, tampered with or unsigned."""


class EngineError(EdgeRuntimeError):
    """An inference engine cannot be created or run."""


class BackendUnavailableError(EngineError):
    """The requested inference backend is not installed on this machine."""


class CameraError(EdgeRuntimeError):
    """The camera cannot be opened, stopped delivering frames, or a recording is unusable."""


class StaleFrameError(CameraError, TimeoutError):
    """The newest frame is older than the caller allows."""


class CalibrationError(EdgeRuntimeError):
    """A calibration artifact is missing, incomplete, tampered with or for other devices."""


class SafetyStop(EdgeRuntimeError):
    """The safety filter stopped the robot (stale observations, empty queue, faults)."""

    exit_code = 1

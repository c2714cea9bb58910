"""The runtime's branch of the project's one exception tree (the root lives in firmware_bridge).

Every error carries its exit code; the CLI prints any of them as one sentence and exits with
it. Messages say what is wrong, where, and how to fix it. Foreign exceptions are wrapped with
`raise ... from` so the cause stays in the log.

Exit codes: 0 the run ended as asked; 1 the robot was stopped (a safety stop or a fault;
torque is off); 2 refused: bad config, bundle, calibration, arguments — fix and retry;
3 the export's accuracy gate refused a bundle.
"""

from __future__ import annotations

from firmware_bridge.errors import EdgeRuntimeError


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
    """The safety filter stopped the robot (stale observations, empty queue, surprise, ...).

    Raised by the CLI after the run report, so the exit code says the robot was stopped.
    """

    exit_code = 1


class RuntimeFault(EdgeRuntimeError):
    """A component failed during a run (camera, inference, motor bus, control process);
    the robot was stopped with torque off."""

    exit_code = 1


__all__ = [
    "BackendUnavailableError",
    "BundleError",
    "CalibrationError",
    "CameraError",
    "ConfigError",
    "EdgeRuntimeError",
    "EngineError",
    "RuntimeFault",
    "SafetyStop",
    "StaleFrameError",
]

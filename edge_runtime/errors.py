"""The runtime's branch of the project's one exception tree (the root lives in firmware_bridge).

Every error carries its exit code; the CLI prints any of them as one sentence and exits with
it. Messages say what is wrong, where, and how to fix it. Foreign exceptions are wrapped with
`raise ... from` so the cause stays in the log.

Exit codes (the table in docs/runtime.md): 0 the run ended as asked; 1 a fault stopped the
robot (torque off; a supervisor may restart it); 2 refused: bad config, bundle, calibration,
arguments — fix and retry; 3 the export's accuracy gate refused a bundle; 10 a latched safety
stop (torque off; it stays stopped until a person runs `edgerun ack`). The shipped systemd unit
names 10 in RestartPreventExitStatus, so a safety stop is never restarted by the service.
"""

from __future__ import annotations

from firmware_bridge.errors import EdgeRuntimeError

EXIT_FAULT = 1  # a fault stopped the robot: restartable
EXIT_LATCHED = 10  # a safety stop, latched on disk: needs a person (not 0-7, 64-78: named codes)


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

    Raised by the CLI after the run report. Its own exit code, so a supervisor can tell it from
    a fault: a safety stop means the robot met something nobody planned for, and a person
    must look before it moves again (`edgerun run` latches it on disk).
    """

    exit_code = EXIT_LATCHED


class StopLatched(EdgeRuntimeError):
    """`run` refused to arm: a safety stop is latched on disk and nobody has acknowledged it.

    Same exit code as the stop itself, so a service restart after it is refused the same way.
    """

    exit_code = EXIT_LATCHED


class RuntimeFault(EdgeRuntimeError):
    """A component failed during a run (camera, inference, motor bus, control process);
    the robot was stopped with torque off. Restartable: a supervisor may try again."""

    exit_code = EXIT_FAULT


class DeployError(EdgeRuntimeError):
    """A bundle deploy or rollback was refused; the active bundle slot is unchanged."""


class SelftestFailed(DeployError):
    """A check of this device failed (`selftest`, or the one inside `deploy`)."""

    exit_code = EXIT_FAULT


__all__ = [
    "BackendUnavailableError",
    "BundleError",
    "CalibrationError",
    "CameraError",
    "ConfigError",
    "DeployError",
    "EdgeRuntimeError",
    "EngineError",
    "RuntimeFault",
    "SafetyStop",
    "SelftestFailed",
    "StaleFrameError",
    "StopLatched",
]

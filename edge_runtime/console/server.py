"""Serve the console until Ctrl-C: one process, one event loop, no effect on the robot's loop.

It runs beside the runtime, not inside it: a crashed or busy console cannot delay a control
tick, and `nice` (the systemd unit's `Nice=`) can keep it below the runtime's processes.
"""

from __future__ import annotations

from collections.abc import Callable

from edge_runtime.console.settings import DEFAULT_BIND, TOKEN_FILE, console_settings


def serve_console(
    bind: str = DEFAULT_BIND,
    config_path: str | None = None,
    data_dir: str | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Build the settings (a token for a network bind), print where to look, serve."""
    try:
        from aiohttp import web

        from edge_runtime.console.app import create_app
    except ImportError as exc:
        from edge_runtime.errors import ConfigError

        raise ConfigError(
            f"the console needs the `console` extra ({exc.name} is missing): "
            "pip install 'edge-runtime[console]'"
        ) from exc
    settings = console_settings(bind, config_path, data_dir)
    echo(f"console for the robot with state in {settings.state_dir}, data in {settings.data_dir}")
    if settings.token:
        echo(f"token (stored 0600 in {settings.state_dir / TOKEN_FILE}): {settings.token}")
    echo(f"open {settings.url}")
    # No access log: at 5 polls a second it would fill the robot's journal with nothing.
    app = create_app(settings)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0

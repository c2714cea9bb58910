"""The console served from a thread of the test process, on a free port, for one test."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from edge_runtime.console.app import create_app
from edge_runtime.console.settings import ConsoleSettings


@contextmanager
def serving(settings: ConsoleSettings) -> Iterator[str]:
    """The console's base URL (always reached through 127.0.0.1) while the block runs."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(settings))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, settings.host, settings.port)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, name="console", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def request(
    url: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """(status, body) of a GET, or of a form POST when `form` is given; redirects not followed."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def error_of(body: str) -> str:
    try:
        return str(json.loads(body).get("error", ""))
    except ValueError:
        return body


def wait_running(url: str, timeout_s: float = 10.0) -> None:
    """Until the console says the robot runs (a `LiveStatus` that has started publishes)."""
    deadline = time.monotonic() + timeout_s
    while request(url + "/api/robot")[1].find('"state": "running"') < 0:
        assert time.monotonic() < deadline, "the live status never said running"
        time.sleep(0.05)

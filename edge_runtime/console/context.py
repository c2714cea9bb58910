"""What every page handler gets: the settings, the template renderer, and the guards.

One object, so page modules (ours and the ones other packages add through
`edge_runtime.console.extensions`) render with the same layout and refuse the same way.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import jinja2
from aiohttp import web

from edge_runtime.console.extensions import PageSet
from edge_runtime.console.paths import ConsoleRequestError
from edge_runtime.console.robot_view import is_running
from edge_runtime.console.settings import ConsoleSettings

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


@dataclass
class ConsoleContext:
    settings: ConsoleSettings
    templates: jinja2.Environment
    nav: list[PageSet] = field(default_factory=list)

    def add_templates(self, package: str, folder: str = "templates") -> None:
        """Let another package's templates extend the console's `base.html`."""
        loader = self.templates.loader
        assert isinstance(loader, jinja2.ChoiceLoader)
        loader.loaders = [*loader.loaders, jinja2.PackageLoader(package, folder)]

    def render(self, request: web.Request, template: str, **values: Any) -> web.Response:
        html = self.templates.get_template(template).render(
            nav=self.nav, path=request.path, token_needed=bool(self.settings.token), **values
        )
        return web.Response(text=html, content_type="text/html")

    def refuse_if_running(self, action: str) -> None:
        """Actions that could move the robot (or change what it runs) wait for it to stop."""
        if is_running(self.settings.state_dir):
            raise ConsoleRequestError(
                f"the robot is running: {action} is refused while it runs; stop the run "
                "(systemctl stop edge-runtime, or Ctrl-C) and try again",
                status=409,
            )

    async def off_loop(self, work: Callable[..., T], *args: Any) -> T:
        """Slow library work (a calibration solve, an export) in a thread, pages stay live."""
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(work, *args)
        )


def done(page: str, sentence: str) -> web.HTTPSeeOther:
    """After a change, back to `page` with the CLI's sentence shown (raise it)."""
    return web.HTTPSeeOther(f"{page}?done={quote(sentence)}")


async def form(request: web.Request) -> dict[str, str]:
    """The posted form as plain strings (file uploads are not accepted anywhere)."""
    data = await request.post()
    return {key: value for key, value in data.items() if isinstance(value, str)}

"""The console's aiohttp application: guards, our pages, the pages other packages add.

Bad input becomes one sentence on the page (or `{"error": ...}` for the API) with a 4xx
status, never a traceback: handlers raise project errors and `_errors` turns them into
answers.
"""

from __future__ import annotations

import importlib
import logging

import jinja2
from aiohttp import web

from edge_runtime.console import bundle_pages, extensions, logs_pages, robot_pages
from edge_runtime.console.context import ConsoleContext, Handler, Middleware
from edge_runtime.console.paths import ConsoleRequestError
from edge_runtime.console.security import token_guard
from edge_runtime.console.settings import ConsoleSettings
from edge_runtime.errors import EdgeRuntimeError

log = logging.getLogger(__name__)
OUR_PAGES = [
    extensions.PageSet("", "Robot", "/"),
    extensions.PageSet("", "Stop", "/stop"),
    extensions.PageSet("", "Logs", "/logs"),
    extensions.PageSet("", "Bundles", "/bundles"),
]


def create_app(settings: ConsoleSettings) -> web.Application:
    """The whole console for one robot; `extensions.registered()` pages included."""
    templates = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader("edge_runtime.console", "templates")]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    context = ConsoleContext(settings, templates, list(OUR_PAGES))
    app = web.Application(middlewares=[_errors(context), token_guard(settings)])
    robot_pages.setup(app, context)
    logs_pages.setup(app, context)
    bundle_pages.setup(app, context)
    for pages in extensions.registered():
        module, _, function = pages.target.partition(":")
        try:
            setup = getattr(importlib.import_module(module), function)
        except ImportError as exc:  # its extra is not installed: the rest still serves
            log.warning("console pages %s unavailable: %s", pages.target, exc)
            continue
        setup(app, context)
        context.nav.append(pages)
    static = web.static("/static", _static_dir(), append_version=False)
    app.router.add_routes([static])
    return app


def _static_dir() -> str:
    from importlib import resources

    return str(resources.files("edge_runtime.console").joinpath("static"))


def _errors(context: ConsoleContext) -> Middleware:
    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except EdgeRuntimeError as exc:
            status = exc.status if isinstance(exc, ConsoleRequestError) else 400
            if request.path.startswith("/api/"):
                return web.json_response({"error": str(exc)}, status=status)
            response = context.render(request, "error.html", message=str(exc))
            response.set_status(status)
            return response

    return errors

"""Logs: the episode logs under `<data>/logs`, each with its summary, timeline and export.

The summary, the timeline plot and the export are `edgerun log info` / `log export`'s own
functions (`edge_runtime.recording.summary`, `edge_runtime.recording.export`); exports go to
`<data>/exports/<log>-<format>`, never to a path the browser names.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiohttp import web

from edge_runtime.console.context import ConsoleContext, done, form
from edge_runtime.console.paths import ConsoleRequestError, inside, names_in
from edge_runtime.recording.export import FORMATS


def setup(app: web.Application, context: ConsoleContext) -> None:
    logs_dir = context.settings.logs_dir
    plots = tempfile.TemporaryDirectory(prefix="edgerun-console-")

    async def close_plots(_app: web.Application) -> None:
        plots.cleanup()

    app.on_cleanup.append(close_plots)

    def log_path(request: web.Request) -> Path:
        path = inside(logs_dir, request.match_info["name"])
        if not path.exists():
            raise ConsoleRequestError(f"no log named {path.name} in {logs_dir}", status=404)
        return path

    async def index(request: web.Request) -> web.Response:
        names = [n for n in names_in(logs_dir) if _is_log(logs_dir / n)]
        return context.render(request, "logs.html", names=names, logs_dir=logs_dir)

    async def one(request: web.Request) -> web.Response:
        from edge_runtime.recording.summary import summarize, summary_rows

        path = log_path(request)
        info, _ = await context.off_loop(summarize, path)
        rows = summary_rows(info)
        shown = request.query.get("done", "")
        return context.render(
            request, "log.html", name=path.name, rows=rows, formats=FORMATS, done=shown
        )

    async def timeline(request: web.Request) -> web.FileResponse:
        from edge_runtime.recording.summary import plot_timeline, summarize

        path = log_path(request)
        info, line = await context.off_loop(summarize, path)
        png = await context.off_loop(plot_timeline, info, line, Path(plots.name) / "t.png")
        return web.FileResponse(png, headers={"Cache-Control": "no-store"})

    async def export(request: web.Request) -> web.Response:
        from edge_runtime.recording.export import ExportOptions, export_logs

        path = log_path(request)
        kind = (await form(request)).get("format", "")
        if kind not in FORMATS:
            raise ConsoleRequestError(f"unknown export format {kind!r}; pick one of {FORMATS}")
        out = context.settings.data_dir / "exports" / f"{path.name}-{kind}"
        options = ExportOptions(logs=(path,), format=kind, out=out)
        try:
            await context.off_loop(export_logs, options)
        except ImportError as exc:
            raise ConsoleRequestError(
                f"exporting {kind} needs the `data` extra ({exc.name} is missing): "
                "pip install 'edge-runtime[data]'"
            ) from exc
        raise done(f"/logs/{path.name}", f"exported {path.name} as {kind} into {out}")

    app.router.add_get("/logs", index)
    app.router.add_get("/logs/{name}", one)
    app.router.add_get("/logs/{name}/timeline.png", timeline)
    app.router.add_post("/logs/{name}/export", export)


def _is_log(path: Path) -> bool:
    return path.suffix == ".erlog" or any(path.glob("episode-*.erlog"))

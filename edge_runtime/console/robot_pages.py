"""Robot and Stop: the live view, the cameras, the latched stop and its acknowledge form.

Acknowledge calls the very function `edgerun ack` calls
(`edge_runtime.field.status.acknowledge_stop`), so the console logs and refuses exactly as the
CLI does.
"""

from __future__ import annotations

from aiohttp import web

from edge_runtime.console.context import ConsoleContext, done, form
from edge_runtime.console.paths import ConsoleRequestError, inside
from edge_runtime.console.robot_view import note_viewer, preview_jpeg, robot_state
from edge_runtime.field.latch import StopLatch
from edge_runtime.field.live import live_dir

ACKS_SHOWN = 10
_NO_CACHE = {"Cache-Control": "no-store"}  # a preview is only ever the newest frame


def setup(app: web.Application, context: ConsoleContext) -> None:
    state_dir = context.settings.state_dir

    async def robot(request: web.Request) -> web.Response:
        return context.render(request, "robot.html", state=robot_state(state_dir))

    async def api_robot(request: web.Request) -> web.Response:
        note_viewer(state_dir)
        return web.json_response(robot_state(state_dir))

    async def camera(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        inside(live_dir(state_dir), f"camera-{name}.npy")  # a plain name, nothing else
        jpeg = preview_jpeg(state_dir, name)
        if jpeg is None:
            raise ConsoleRequestError(f"camera {name!r} has published no preview", status=404)
        return web.Response(body=jpeg, content_type="image/jpeg", headers=_NO_CACHE)

    async def stop(request: web.Request) -> web.Response:
        latch = StopLatch(state_dir)
        acks = latch.acknowledgements()[-ACKS_SHOWN:][::-1]
        shown = request.query.get("done", "")
        return context.render(request, "stop.html", stop=latch.read(), acks=acks, done=shown)

    async def acknowledge(request: web.Request) -> web.Response:
        from edge_runtime.field.status import acknowledge_stop

        fields = await form(request)
        sentence = await context.off_loop(
            acknowledge_stop,
            context.settings.config_path,
            fields.get("by", ""),
            fields.get("why", ""),
        )
        raise done("/stop", sentence)

    app.router.add_get("/", robot)
    app.router.add_get("/api/robot", api_robot)
    app.router.add_get("/camera/{name}.jpg", camera)
    app.router.add_get("/stop", stop)
    app.router.add_post("/stop/ack", acknowledge)

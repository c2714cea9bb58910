"""Robot, Stop and Bundles: the live view, the acknowledge form, the slots and rollback.

Acknowledge and rollback call the very functions `edgerun ack` and `edgerun rollback` call
(`edge_runtime.field.status.acknowledge_stop`, `edge_runtime.field.deploy.rollback`), so the
console logs and refuses exactly as the CLI does.
"""

from __future__ import annotations

from aiohttp import web

from edge_runtime.console.context import ConsoleContext, done, form
from edge_runtime.console.paths import ConsoleRequestError, inside
from edge_runtime.console.robot_view import note_viewer, preview_jpeg, robot_state
from edge_runtime.field.latch import StopLatch
from edge_runtime.field.live import LIVE_DIR

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
        inside(state_dir / LIVE_DIR, f"camera-{name}.npy")  # a plain name, nothing else
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

    async def bundles(request: web.Request) -> web.Response:
        state = robot_state(state_dir)
        shown = request.query.get("done", "")
        return context.render(request, "bundles.html", state=state, done=shown)

    async def rollback(request: web.Request) -> web.Response:
        from edge_runtime.config import load_config
        from edge_runtime.field.deploy import rollback as rollback_slots

        context.refuse_if_running("a rollback")
        if not context.settings.config_path:
            raise ConsoleRequestError(
                "a rollback checks the bundle against the robot's config: start the console "
                "with --config ROBOT.toml"
            )
        config = load_config(context.settings.config_path)
        outcome = await context.off_loop(rollback_slots, config)
        raise done("/bundles", f"slot {outcome.slot} is active again (was {outcome.previous})")

    app.router.add_get("/", robot)
    app.router.add_get("/api/robot", api_robot)
    app.router.add_get("/camera/{name}.jpg", camera)
    app.router.add_get("/stop", stop)
    app.router.add_post("/stop/ack", acknowledge)
    app.router.add_get("/bundles", bundles)
    app.router.add_post("/bundles/rollback", rollback)

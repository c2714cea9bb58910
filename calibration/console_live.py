"""The console's live intrinsics page: aim the board at the live camera, keep views, solve.

While the robot is idle the page opens the robot's camera (`live_session.LiveViews`, as
`calibrate camera` opens it) and collects kept views into `<data>/calibration/images/<set>`;
the set is then solved by the recorded-set page (`console_pages`), the very same solve. While
the robot runs the camera is the run's: the page shows the preview the runtime already
publishes, with the detected corners, so the board can be aimed, but nothing is kept (the
preview is every second pixel, not the resolution the robot calibrates).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from aiohttp import web

from calibration import live_session
from calibration.live_session import LiveViews, draw_corners
from edge_runtime.console.context import ConsoleContext, form
from edge_runtime.console.paths import ConsoleRequestError, inside
from edge_runtime.console.robot_view import is_running, note_viewer, preview_pixels
from edge_runtime.errors import CalibrationError
from edge_runtime.field.live import live_dir
from edge_runtime.sensors.base import Camera

_NO_CACHE = {"Cache-Control": "no-store"}


def setup(app: web.Application, context: ConsoleContext) -> None:
    settings = context.settings
    images_dir = settings.calibration_dir / "images"
    session: dict[str, LiveViews] = {}  # at most one: the robot has one camera to hold

    def current() -> LiveViews | None:
        views = session.get("views")
        return views if views is not None and views.is_open else None

    async def close(_app: web.Application) -> None:
        if "views" in session:
            await context.off_loop(session.pop("views").close)

    app.on_cleanup.append(close)

    async def page(request: web.Request) -> web.Response:
        views = current()
        running = views is None and is_running(settings.state_dir)
        error = session["views"].status()["error"] if "views" in session and not views else ""
        return context.render(
            request, "calibrate_live.html", views=views, running=running, error=error
        )

    async def start(request: web.Request) -> web.Response:
        context.refuse_if_running("opening the camera for calibration")
        name = (await form(request)).get("set", "").strip()
        folder = inside(images_dir, name)
        if current() is not None:
            raise ConsoleRequestError(
                f"the camera is already collecting into {session['views'].folder.name}; "
                "stop that session first",
                status=409,
            )
        state_dir = settings.state_dir

        def opener() -> AbstractContextManager[Camera]:  # the robot's camera, looked up now
            return live_session.robot_camera(settings.config_path)

        session["views"] = await context.off_loop(
            LiveViews, folder, opener, lambda: not is_running(state_dir)
        )
        raise web.HTTPSeeOther("/calibrate/live")

    async def status(request: web.Request) -> web.Response:
        views = current()
        if views is not None:
            return web.json_response(views.status(), headers=_NO_CACHE)
        note_viewer(settings.state_dir)  # the run writes previews while someone looks
        return web.json_response({"open": False, "running": is_running(settings.state_dir)})

    async def frame(request: web.Request) -> web.Response:
        views = current()
        if views is not None:
            jpeg = await context.off_loop(views.frame_jpeg)
        else:
            jpeg = await context.off_loop(_preview_with_corners, context, request)
        if not jpeg:
            raise ConsoleRequestError("no camera frame yet", status=404)
        return web.Response(body=jpeg, content_type="image/jpeg", headers=_NO_CACHE)

    async def keep(request: web.Request) -> web.Response:
        context.refuse_if_running("keeping a calibration view")
        views = current()
        if views is None:
            raise ConsoleRequestError("no camera session is open; start one first", status=409)
        sentence = await context.off_loop(views.keep)
        return web.json_response({**views.status(), "done": sentence})

    async def stop(request: web.Request) -> web.Response:
        views = session.pop("views", None)
        if views is None:
            raise web.HTTPSeeOther("/calibrate/live")
        await context.off_loop(views.close)
        raise web.HTTPSeeOther(f"/calibrate/images/{views.folder.name}")

    app.router.add_get("/calibrate/live", page)
    app.router.add_post("/calibrate/live/start", start)
    app.router.add_post("/calibrate/live/stop", stop)
    app.router.add_get("/calibrate/live/frame.jpg", frame)
    app.router.add_get("/api/calibrate/live", status)
    app.router.add_post("/api/calibrate/live/keep", keep)


def _preview_with_corners(context: ConsoleContext, request: web.Request) -> bytes | None:
    """The running robot's published preview with the default board's corners detected."""
    from calibration.board import BoardSpec, detect

    camera = request.query.get("camera", "camera")
    inside(live_dir(context.settings.state_dir), f"camera-{camera}.npy")  # a name, no path
    pixels = preview_pixels(context.settings.state_dir, camera)
    if pixels is None:
        return None
    try:
        detection = detect(pixels, BoardSpec())
    except CalibrationError:
        detection = None
    return draw_corners(pixels[:, :, ::-1], detection)

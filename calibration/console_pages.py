"""The console's Calibrate pages: solve camera intrinsics from a recorded image set, show results.

A recorded set is a folder of board images under `<data>/calibration/images/<set>` (what
`calibrate camera` saves while collecting live views, with its `board.json` when the board is
not the default). The pages run `calibrate camera --images`'s own functions: detection
(`calibration.views.load_image_views`), the coverage grid and the solve
(`calibration.intrinsics`), the error plot (`calibration.plots`), the artifact writer; the
result is written to `<data>/calibration/results/<set>/` and shown with its envelope, as
`calibrate show` does. Registered from `calibration.cli.register` through
`edge_runtime.console.extensions`, so edge_runtime never imports calibration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from calibration import console_handeye, console_live
from calibration.board import Detection
from calibration.commands_artifacts import envelope_rows
from calibration.intrinsics import MIN_CORNERS, calibrate_intrinsics, coverage_grid
from calibration.live_session import board_of, draw_corners
from edge_runtime.calibration_artifacts import CAMERA, write_document
from edge_runtime.calibration_artifacts.schemas import load_artifact
from edge_runtime.console.context import ConsoleContext
from edge_runtime.console.paths import ConsoleRequestError, inside, names_in

PLOT = "camera_errors.png"


def detect_set(folder: Path) -> dict[str, Any]:
    """Every view's detected corners and the coverage map, as the set page shows them."""
    from calibration.views import load_image_views

    views, size = load_image_views(folder, board_of(folder))
    good = [d.image_points for _, d in views if d.count >= MIN_CORNERS]
    return {
        "views": [(name, det.count, det.count >= MIN_CORNERS) for name, det in views],
        "size": size,
        "coverage": coverage_grid(good, *size).tolist(),
        "detections": dict(views),
    }


def solve_set(folder: Path, out: Path) -> Path:
    """`calibrate camera --images folder --out out`, without the terminal: the artifact path."""
    from calibration.plots import intrinsics_png
    from calibration.views import load_image_views

    spec = board_of(folder)
    views, size = load_image_views(folder, spec)
    result = calibrate_intrinsics(views, size)
    out.mkdir(parents=True, exist_ok=True)
    intrinsics_png(result, out / PLOT)
    return write_document(out / CAMERA.filename, result.document(spec))


def corners_jpeg(folder: Path, image: str, detection: Detection | None) -> bytes:
    """The view with its detected corners drawn (green), as JPEG."""
    import cv2

    pixels = cv2.imread(str(inside(folder, image)), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ConsoleRequestError(f"{image} in {folder.name} is not a readable image", status=404)
    return draw_corners(pixels, detection)


def setup(app: web.Application, context: ConsoleContext) -> None:
    context.add_templates("calibration")
    images_dir = context.settings.calibration_dir / "images"
    results_dir = context.settings.calibration_dir / "results"
    detected: dict[tuple[str, ...], dict[str, Any]] = {}  # per set and its files

    async def detections(name: str) -> tuple[Path, dict[str, Any]]:
        folder = inside(images_dir, name)
        key = (name, *names_in(folder))  # a view kept live since: detected again
        if key not in detected:
            detected[key] = await context.off_loop(detect_set, folder)
        return folder, detected[key]

    async def index(request: web.Request) -> web.Response:
        sets, results = names_in(images_dir), names_in(results_dir)
        return context.render(
            request, "calibrate.html", sets=sets, results=results, images_dir=images_dir
        )

    async def image_set(request: web.Request) -> web.Response:
        name = request.match_info["set"]
        _, found = await detections(name)
        return context.render(request, "calibrate_set.html", name=name, found=found)

    async def view(request: web.Request) -> web.Response:
        image = request.match_info["image"]
        inside(inside(images_dir, request.match_info["set"]), image)  # names, nothing else
        folder, found = await detections(request.match_info["set"])
        jpeg = await context.off_loop(corners_jpeg, folder, image, found["detections"].get(image))
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def solve(request: web.Request) -> web.Response:
        name = request.match_info["set"]
        folder = inside(images_dir, name)
        await context.off_loop(solve_set, folder, inside(results_dir, name))
        raise web.HTTPSeeOther(f"/calibrate/results/{name}")

    async def result(request: web.Request) -> web.Response:
        name = request.match_info["set"]
        artifact = load_artifact(inside(results_dir, name), CAMERA)  # hash-checked, parsed
        rows = envelope_rows(artifact.envelope)
        return context.render(request, "calibrate_result.html", name=name, rows=rows)

    async def plot(request: web.Request) -> web.FileResponse:
        path = inside(inside(results_dir, request.match_info["set"]), PLOT)
        if not path.exists():
            raise ConsoleRequestError(f"no plot for {request.match_info['set']}", status=404)
        return web.FileResponse(path)

    console_live.setup(app, context)
    console_handeye.setup(app, context)
    app.router.add_get("/calibrate", index)
    app.router.add_get("/calibrate/images/{set}", image_set)
    app.router.add_get("/calibrate/images/{set}/{image}", view)
    app.router.add_post("/calibrate/images/{set}/intrinsics", solve)
    app.router.add_get("/calibrate/results/{set}", result)
    app.router.add_get(f"/calibrate/results/{{set}}/{PLOT}", plot)

"""The console's hand-eye page: the pose tour of `calibrate handeye --config`, with progress.

A result folder with solved intrinsics (`<data>/calibration/results/<set>`) gets the tour's
capture and its `handeye.json` beside them. The tour runs `calibration.handeye_tour`'s steps,
the ones `calibrate handeye` runs: the robot opened as the CLI opens it, poses proposed inside
the model's and the measured joint limits, torque on, each pose visited and filmed, back to
the start, solved, the residual plot drawn. Refused while the robot runs (it would move the
arm under the run) and while another tour is going; the page stands in for the CLI's "clear
the workspace, press Enter" with its own confirmation box.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from edge_runtime.console.context import ConsoleContext, form
from edge_runtime.console.paths import ConsoleRequestError, inside
from edge_runtime.errors import CalibrationError, EdgeRuntimeError

log = logging.getLogger(__name__)
CAPTURE_DIR = "handeye_capture"
PLOT = "handeye_residuals.png"  # calibration.handeye_tour.PLOT (not imported: MuJoCo)
POSES_DEFAULT, POSES_MAX = 15, 40
MODES = ("to-hand", "in-hand")


@dataclass
class TourProgress:
    """What the page shows while a tour runs (written by the tour thread, read by polls)."""

    result: str  # the result folder's name
    state: str = "starting"  # starting, moving, solving, done, failed
    pose: int = 0  # poses reached so far
    poses: int = 0
    message: str = ""


def run_tour(
    config_path: str, out: Path, count: int, seed: int, mode: str, progress: TourProgress
) -> None:
    """The whole procedure in one thread; every failure ends as one sentence on the page."""
    from calibration.handeye_tour import drive_tour, plan_tour, solve_and_write
    from calibration.session import camera_model, open_robot

    def reached(index: int, total: int) -> None:
        progress.state, progress.pose, progress.poses = "moving", index, total

    try:
        camera = camera_model(out)
        spec = board_of_intrinsics(out)
        with open_robot(config_path) as robot:
            plan = plan_tour(robot, out, count, seed, mode)
            progress.poses = len(plan.poses_rad)
            drive_tour(robot, plan, out / CAPTURE_DIR, mode, on_pose=reached)
            progress.pose = progress.poses
        progress.state = "solving"
        outcome = solve_and_write(out / CAPTURE_DIR, plan.model, spec, camera, out, mode)
        skipped = f"; skipped {len(outcome.skipped)} images" if outcome.skipped else ""
        progress.message = f"wrote {outcome.path.name} ({outcome.result.method}){skipped}"
        progress.state = "done"
    except EdgeRuntimeError as exc:
        progress.state, progress.message = "failed", str(exc)
    except Exception as exc:  # a driver fault must not leave the page saying "moving"
        log.exception("hand-eye tour failed")
        progress.state, progress.message = "failed", f"the tour stopped: {exc}"


def board_of_intrinsics(out: Path) -> Any:
    """The board the intrinsics were solved with (the artifact records it), else the default."""
    from calibration.board import BoardSpec
    from edge_runtime.calibration_artifacts import CAMERA
    from edge_runtime.calibration_artifacts.schemas import load_artifact

    board = load_artifact(out, CAMERA).envelope.data.get("board")
    return BoardSpec.from_json(board) if isinstance(board, dict) else BoardSpec()


def setup(app: web.Application, context: ConsoleContext) -> None:
    results_dir = context.settings.calibration_dir / "results"
    tours: dict[str, TourProgress] = {}
    threads: list[threading.Thread] = []

    def going() -> TourProgress | None:
        tour = tours.get("tour")
        return tour if tour is not None and tour.state not in ("done", "failed") else None

    async def page(request: web.Request) -> web.Response:
        name = request.match_info["set"]
        inside(results_dir, name)
        tour = tours.get("tour")
        shown = tour if tour is not None and tour.result == name else None
        rows = await context.off_loop(_result_rows, inside(results_dir, name))
        return context.render(
            request, "calibrate_handeye.html", name=name, tour=shown, modes=MODES,
            poses=POSES_DEFAULT, rows=rows,
        )  # fmt: skip

    async def plot(request: web.Request) -> web.FileResponse:
        path = inside(inside(results_dir, request.match_info["set"]), PLOT)
        if not path.exists():
            raise ConsoleRequestError(f"no hand-eye plot for {request.match_info['set']}", 404)
        return web.FileResponse(path, headers={"Cache-Control": "no-store"})

    async def start(request: web.Request) -> web.Response:
        name = request.match_info["set"]
        out = inside(results_dir, name)
        context.refuse_if_running("the hand-eye pose tour (it moves the arm)")
        if going() is not None:
            raise ConsoleRequestError("a hand-eye tour is already going; wait for it", status=409)
        fields = await form(request)
        count, mode = _tour_fields(fields)
        if fields.get("clear") != "yes":
            raise CalibrationError(
                "the robot will move to the proposed poses: clear the workspace, then tick "
                "'the workspace is clear' and start again"
            )
        if not context.settings.config_path:
            raise CalibrationError(
                "the console was started without --config, so it cannot open the robot; "
                "restart it with `edgerun console --config ROBOT.toml`"
            )
        if not (out / "camera_intrinsics.json").exists():
            raise CalibrationError(f"{name} has no solved intrinsics; solve the camera first")
        tours["tour"] = progress = TourProgress(name)
        seed = int(fields.get("seed", "0") or 0)
        args = (context.settings.config_path, out, count, seed, mode, progress)
        thread = threading.Thread(target=run_tour, args=args, name="handeye-tour", daemon=True)
        threads.append(thread)
        thread.start()
        raise web.HTTPSeeOther(f"/calibrate/results/{name}/handeye")

    async def status(request: web.Request) -> web.Response:
        tour = tours.get("tour")
        return web.json_response(asdict(tour) if tour else {"state": "none"})

    async def finish(_app: web.Application) -> None:
        for thread in threads:  # a tour holds the arm: let it end (torque off) before exiting
            await context.off_loop(thread.join)

    app.on_cleanup.append(finish)
    app.router.add_get("/calibrate/results/{set}/handeye", page)
    app.router.add_post("/calibrate/results/{set}/handeye", start)
    app.router.add_get("/api/calibrate/handeye", status)
    app.router.add_get(f"/calibrate/results/{{set}}/{PLOT}", plot)


def _result_rows(out: Path) -> list[tuple[str, str]]:
    """The hand-eye artifact as `calibrate show` lists it (hash verified); [] before one."""
    from calibration.commands_artifacts import envelope_rows
    from edge_runtime.calibration_artifacts import HANDEYE
    from edge_runtime.calibration_artifacts.schemas import load_artifact

    if not (out / HANDEYE.filename).exists():
        return []
    return envelope_rows(load_artifact(out, HANDEYE).envelope)


def _tour_fields(fields: dict[str, str]) -> tuple[int, str]:
    poses_text, mode = fields.get("poses", str(POSES_DEFAULT)), fields.get("mode", MODES[0])
    if not poses_text.isdigit() or not 4 <= int(poses_text) <= POSES_MAX:
        raise CalibrationError(f"poses must be a whole number from 4 to {POSES_MAX}")
    if mode not in MODES:
        raise CalibrationError(f"mode must be one of {', '.join(MODES)}")
    return int(poses_text), mode

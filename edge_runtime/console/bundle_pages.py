"""Bundles: the A/B slots, deploy of a bundle waiting in `<data>/bundles`, and rollback.

Deploy and rollback are `edgerun deploy` / `edgerun rollback`'s own functions
(`edge_runtime.field.deploy`): stage, verify the signature with the robot's trusted keys and
its joints, build engines, selftest with torque off, switch; any failure leaves the active
slot as it was. Deploy's engine build and golden parity come from the export toolchain, which
edge_runtime may not import: export's CLI plugin names its `DeviceSteps` to
`edge_runtime.console.extensions`, exactly the steps `edgerun deploy` passes. Both are refused
while the robot runs, and the bundle is a *name* in `<data>/bundles` (copied there with scp),
never a path.
"""

from __future__ import annotations

import logging

from aiohttp import web

from edge_runtime.config import RobotConfig
from edge_runtime.console import extensions
from edge_runtime.console.context import ConsoleContext, done, form
from edge_runtime.console.paths import ConsoleRequestError, inside, names_in
from edge_runtime.console.robot_view import robot_state

log = logging.getLogger(__name__)


def setup(app: web.Application, context: ConsoleContext) -> None:
    incoming = context.settings.data_dir / "bundles"

    def robot_config(action: str) -> RobotConfig:
        from edge_runtime.config import load_config

        if not context.settings.config_path:
            raise ConsoleRequestError(
                f"{action} checks the bundle against the robot's config: start the console "
                "with --config ROBOT.toml"
            )
        return load_config(context.settings.config_path)

    async def bundles(request: web.Request) -> web.Response:
        shown = request.query.get("done", "")
        return context.render(
            request, "bundles.html", state=robot_state(context.settings.state_dir), done=shown,
            waiting=names_in(incoming), incoming=incoming,
            can_deploy=bool(extensions.has_device_steps()),
        )  # fmt: skip

    async def deploy(request: web.Request) -> web.Response:
        from edge_runtime.field.deploy import deploy as deploy_bundle

        context.refuse_if_running("a deploy")
        source = inside(incoming, (await form(request)).get("bundle", ""))
        if not source.exists():
            raise ConsoleRequestError(f"no bundle named {source.name} in {incoming}", status=404)
        steps = extensions.device_steps()
        if steps is None:
            raise ConsoleRequestError(
                "deploy needs the export toolchain's engine build and golden parity: pip "
                "install 'edge-runtime[export]' and restart the console"
            )
        config = robot_config("a deploy")
        outcome = await context.off_loop(deploy_bundle, config, source, steps, _progress)
        error = outcome.error()
        if error is not None:
            raise error
        sentence = f"slot {outcome.slot} is active (previous: {outcome.previous or 'none'})"
        raise done("/bundles", " · ".join([sentence, *outcome.notes]))

    async def rollback(request: web.Request) -> web.Response:
        from edge_runtime.field.deploy import rollback as rollback_slots

        context.refuse_if_running("a rollback")
        config = robot_config("a rollback")
        outcome = await context.off_loop(rollback_slots, config)
        raise done("/bundles", f"slot {outcome.slot} is active again (was {outcome.previous})")

    app.router.add_get("/bundles", bundles)
    app.router.add_post("/bundles/deploy", deploy)
    app.router.add_post("/bundles/rollback", rollback)


def _progress(line: str) -> None:
    """Deploy's progress lines (the terminal prints them) go to the console's log."""
    log.info("deploy: %s", line)

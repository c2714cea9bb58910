"""The two guards in front of every handler: the token on a network, and same-origin writes.

- Bound to a network address, any request that can change something (anything but GET/HEAD)
  must carry the token: the `X-Console-Token` header, a `token` form field, or the cookie set
  when the printed URL (`/?token=...`) is opened. Reading pages needs no token (the robot's
  state is no secret on the cell's own network; changing it is).
- A browser write must come from the console's own pages (`Origin` equals the host), so a
  page elsewhere cannot make the engineer's browser acknowledge a stop (CSRF); the cookie is
  also `SameSite=Strict`.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from edge_runtime.console.context import Handler, Middleware
from edge_runtime.console.settings import ConsoleSettings

COOKIE = "console_token"
HEADER = "X-Console-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def refused(message: str) -> web.Response:
    return web.json_response({"error": message}, status=403)


def token_guard(settings: ConsoleSettings) -> Middleware:
    """aiohttp middleware: refuses unauthenticated or cross-origin state changes."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in SAFE_METHODS:
            response = await handler(request)
            offered = request.query.get("token", "")
            if settings.token and offered and _same(offered, settings.token):
                response.set_cookie(COOKIE, offered, httponly=True, samesite="Strict")
            return response
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:  # "null" (sandboxed) too
            return refused(f"a request from {origin} may not change this robot; use the console")
        if settings.token and not _same(await _offered_token(request), settings.token):
            return refused(
                "this console is on a network: changes need the token printed when "
                "`edgerun console` started (open the URL it printed)"
            )
        return await handler(request)

    return guard


async def _offered_token(request: web.Request) -> str:
    offered = request.headers.get(HEADER) or request.cookies.get(COOKIE, "")
    if not offered and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        offered = str((await request.post()).get("token", ""))
    return offered


def _same(offered: str, token: str) -> bool:
    return hmac.compare_digest(offered.encode(), token.encode())

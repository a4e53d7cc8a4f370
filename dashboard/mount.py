"""The Litestar mount for the dashboard: authentication, then a2wsgi around the Dash (Flask) app.

Authentication (同一身份): the same access tokens as ``/api``, validated by the app's
``token_validator`` — from ``Authorization: Bearer`` or, for a browser, the ``citylead_token``
cookie. The principal's own tenant is the scope of everything shown: a province supervisor sees
the province, a city administrator their city. No token, or a bad one, gets 401 and no page.

Litestar strips the mount prefix and forces a trailing slash, which breaks Dash (``_dash-layout``
would answer the HTML page). The handler rebuilds ``scope["path"]`` from ``raw_path`` and sets
``root_path``, so Flask sees ``SCRIPT_NAME=/dashboard`` and ``PATH_INFO=/_dash-layout``.
"""

from __future__ import annotations

import asyncio
from http.cookies import SimpleCookie
from typing import Any

from a2wsgi import WSGIMiddleware
from dash import Dash
from litestar import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from dashboard._request import LOOP_KEY, PRINCIPAL_KEY
from tenants.errors import Unauthenticated

__all__ = ["COOKIE", "MOUNT_PATH", "dashboard_mount"]

MOUNT_PATH = "/dashboard"
COOKIE = "citylead_token"


def _token(scope: Scope) -> str | None:
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    header = headers.get(b"authorization", b"").decode("latin1")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin1"))
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


async def _unauthorized(send: Send, detail: str) -> None:
    body = detail.encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"www-authenticate", b'Bearer realm="citylead"'),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def _fix_path(scope: Any) -> None:
    raw = scope.get("raw_path")
    path = raw.decode("latin1").partition("?")[0] if raw else MOUNT_PATH + scope["path"]
    if path == MOUNT_PATH:
        path += "/"
    scope["path"] = path
    scope["root_path"] = MOUNT_PATH


def dashboard_mount(dash_app: Dash) -> ASGIRouteHandler:
    """The ``/dashboard`` mount around ``dash_app``; needs ``app.state.token_validator``."""
    wsgi = WSGIMiddleware(dash_app.server)

    @asgi(MOUNT_PATH, is_mount=True, copy_scope=True)
    async def dashboard(scope: Scope, receive: Receive, send: Send) -> None:
        token = _token(scope)
        if token is None:
            await _unauthorized(send, "sign in: a bearer token or the citylead_token cookie is required")
            return
        try:
            principal = await scope["app"].state.token_validator.principal(token)
        except Unauthenticated:
            await _unauthorized(send, "the token is not valid")
            return
        state: Any = scope
        state[PRINCIPAL_KEY] = principal
        state[LOOP_KEY] = asyncio.get_running_loop()
        _fix_path(scope)
        await wsgi(scope, receive, send)  # type: ignore[arg-type]

    return dashboard

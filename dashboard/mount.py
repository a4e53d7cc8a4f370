"""The Litestar mount for the dashboard: authentication, then a2wsgi around the Dash (Flask) app.

Authentication (同一身份): the same access tokens as ``/api``, validated by the app's
``token_validator`` — from ``Authorization: Bearer`` or, for a browser, the session cookies that
``/signin`` set (``dashboard.session``). An expired access token is renewed with the refresh
cookie and the new cookies ride on the response. The principal's own tenant is the scope of
everything shown: a province supervisor sees the province, a city administrator their city.
Without a valid session a browser's page request is sent to ``/signin`` (303); anything else gets
401. A signed-in user without a dashboard role gets 403.

Litestar strips the mount prefix and forces a trailing slash, which breaks Dash (``_dash-layout``
would answer the HTML page). The handler rebuilds ``scope["path"]`` from ``raw_path`` and sets
``root_path``, so Flask sees ``SCRIPT_NAME=/dashboard`` and ``PATH_INFO=/_dash-layout``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from a2wsgi import WSGIMiddleware
from dash import Dash
from keycloak.exceptions import KeycloakError
from litestar import asgi
from litestar.datastructures import Cookie
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

from citylead.identity.principal import Principal
from dashboard._request import LOOP_KEY, PRINCIPAL_KEY
from dashboard.session import ACCESS_COOKIE, Credentials, may_view, session_cookies, signin_location
from tenants.errors import Unauthenticated

__all__ = ["COOKIE", "MOUNT_PATH", "dashboard_mount"]

MOUNT_PATH = "/dashboard"
COOKIE = ACCESS_COOKIE


async def _plain(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = detail.encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *headers,
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def _wants_page(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    return scope.get("method") == "GET" and b"text/html" in headers.get(b"accept", b"")


async def _authenticate(
    state: Any, credentials: Credentials, *, secure: bool
) -> tuple[Principal | None, list[Cookie]]:
    """The principal, and the renewed cookies when the refresh token had to be used."""
    if credentials.access is not None:
        try:
            return await state.token_validator.principal(credentials.access), []
        except Unauthenticated:
            pass
    if credentials.refresh is None or getattr(state, "openid", None) is None:
        return None, []
    try:
        tokens = await state.openid.a_refresh_token(credentials.refresh)
        principal = await state.token_validator.principal(str(tokens["access_token"]))
    except (KeycloakError, Unauthenticated, KeyError):
        return None, []
    return principal, session_cookies(tokens, secure=secure)


def _with_cookies(send: Send, cookies: list[Cookie]) -> Send:
    if not cookies:
        return send

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            extra = [c.to_encoded_header() for c in cookies]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


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
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        state = scope["app"].state
        secure = str(getattr(getattr(state, "settings", None), "public_url", "")).startswith("https://")
        principal, renewed = await _authenticate(state, Credentials.of(headers), secure=secure)
        if principal is None:
            raw = scope.get("raw_path") or b""
            if _wants_page(scope, headers):
                location = signin_location(raw.decode("latin1") or MOUNT_PATH)
                await _plain(send, 303, "sign in", [(b"location", location.encode("latin1"))])
            else:
                await _plain(
                    send, 401, "sign in: the session has ended or no token was given",
                    [(b"www-authenticate", b'Bearer realm="citylead"')],
                )  # fmt: skip
            return
        if not may_view(principal):
            await _plain(send, 403, "该账号无权查看看板（需要省级督查员或管理员角色）", [])
            return
        state_scope: Any = scope
        state_scope[PRINCIPAL_KEY] = principal
        state_scope[LOOP_KEY] = asyncio.get_running_loop()
        _fix_path(scope)
        await wsgi(scope, receive, _with_cookies(send, renewed))  # type: ignore[arg-type]

    return dashboard

"""``/signin`` and ``/signout`` (看板登录 / 退出): the browser's way into the dashboard.

The form posts a username and password; the server exchanges them at the identity provider's
token endpoint (python-keycloak's ``KeycloakOpenID`` in ``app.state.openid``: Keycloak in
production, the embedded provider otherwise), checks the token like every other request and sets
the session cookies (``dashboard.session``). Only the supervisors and administrators of a tenant
may open the dashboard; everyone else is told so on the form (403).
"""

from __future__ import annotations

import html
import logging
from typing import Annotated, Any

from keycloak.exceptions import KeycloakAuthenticationError, KeycloakError
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect

from dashboard.session import (
    SIGNIN_PATH,
    SIGNOUT_PATH,
    Credentials,
    cleared_cookies,
    may_view,
    safe_next,
    session_cookies,
)
from tenants.errors import Unauthenticated

__all__ = ["secure_cookies", "signin_form", "signin_handlers", "signin_submit", "signout"]

log = logging.getLogger("citylead.dashboard")


def secure_cookies(request: Request[Any, Any, Any]) -> bool:
    """Cookies are ``Secure`` when the platform's public URL is HTTPS."""
    return str(getattr(request.app.state.settings, "public_url", "")).startswith("https://")


def _page(
    *, next_path: str, error: str | None = None, username: str = "", status: int = 200
) -> Response[str]:
    message = f'<p id="signin-error" role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>登录 · citylead 看板</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;background:#f4f6f8;margin:0}}
form{{max-width:360px;margin:12vh auto;background:#fff;padding:32px;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.15)}}
h1{{font-size:20px;margin:0 0 20px}} label{{display:block;margin:12px 0 4px}}
input{{width:100%;box-sizing:border-box;padding:8px;font-size:15px}}
button{{margin-top:20px;width:100%;padding:10px;font-size:16px;background:#1565c0;color:#fff;border:0;
border-radius:4px;cursor:pointer}} #signin-error{{color:#c62828}}
</style></head><body>
<form id="signin-form" method="post" action="{SIGNIN_PATH}">
<h1>数字城管 · 监督考核看板</h1>{message}
<input type="hidden" name="next" value="{html.escape(safe_next(next_path))}">
<label for="signin-username">用户名</label>
<input id="signin-username" name="username" autocomplete="username" required value="{html.escape(username)}">
<label for="signin-password">密码</label>
<input id="signin-password" name="password" type="password" autocomplete="current-password" required>
<button id="signin-submit" type="submit">登录</button>
</form></body></html>"""
    return Response(
        body,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


@get(SIGNIN_PATH, include_in_schema=False, sync_to_thread=False)
def signin_form(next: Annotated[str | None, QueryParameter()] = None) -> Response[str]:
    return _page(next_path=next or "")


@post(SIGNIN_PATH, include_in_schema=False, status_code=303)
async def signin_submit(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    username = (data.get("username") or "").strip()
    password = data.get("password") or ""
    next_path = safe_next(data.get("next"))
    if not username or not password:
        return _page(next_path=next_path, error="请输入用户名和密码", username=username, status=400)
    state = request.app.state
    try:
        tokens: dict[str, Any] = await state.openid.a_token(username, password)
    except KeycloakAuthenticationError:
        return _page(next_path=next_path, error="用户名或密码错误", username=username, status=401)
    except KeycloakError as exc:
        log.warning("sign-in: the identity provider failed: %s", exc)
        return _page(next_path=next_path, error="身份服务暂不可用，请稍后再试", username=username, status=503)
    try:
        principal = await state.token_validator.principal(str(tokens["access_token"]))
    except (Unauthenticated, KeyError):
        return _page(next_path=next_path, error="登录凭据无效，请联系管理员", username=username, status=401)
    if not may_view(principal):
        return _page(
            next_path=next_path,
            error="该账号无权查看看板：需要省级督查员或省、市、县级管理员角色",
            username=username,
            status=403,
        )
    return Redirect(
        next_path, status_code=303, cookies=session_cookies(tokens, secure=secure_cookies(request))
    )


@get(SIGNOUT_PATH, include_in_schema=False, status_code=303)
async def signout(request: Request[Any, Any, Any]) -> Response[Any]:
    """Ends the identity provider's session (best effort) and clears the cookies."""
    refresh = Credentials.of({k.lower(): v for k, v in request.scope["headers"]}).refresh
    if refresh is not None:
        try:
            await request.app.state.openid.a_logout(refresh)
        except KeycloakError as exc:  # already ended, or the provider is down: the cookies go anyway
            log.info("sign-out: %s", exc)
    return Redirect(SIGNIN_PATH, status_code=303, cookies=cleared_cookies(secure=secure_cookies(request)))


def signin_handlers() -> list[Any]:
    return [signin_form, signin_submit, signout]

"""The dashboard's browser session (看板会话): tokens kept in HttpOnly cookies.

The browser never sees a token in script: ``/signin`` exchanges a username and password at the
identity provider's token endpoint (Keycloak, or the embedded provider, through python-keycloak)
and sets two cookies — the access token (``citylead_token``) and the refresh token
(``citylead_refresh``). The mount renews an expired access token with the refresh token, so a
supervisor stays signed in for the identity provider's session (8 hours by default), not only
for one access token (30 minutes). Both cookies are ``SameSite=Lax`` and ``Secure`` when the
platform is served over HTTPS; ``/api`` never reads them (it takes bearer tokens only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from litestar.datastructures import Cookie

from citylead.identity.principal import Principal, Role

__all__ = [
    "ACCESS_COOKIE",
    "DASHBOARD_ROLES",
    "REFRESH_COOKIE",
    "SIGNIN_PATH",
    "SIGNOUT_PATH",
    "Credentials",
    "cleared_cookies",
    "may_view",
    "safe_next",
    "session_cookies",
    "signin_location",
]

ACCESS_COOKIE = "citylead_token"
REFRESH_COOKIE = "citylead_refresh"
SIGNIN_PATH = "/signin"
SIGNOUT_PATH = "/signout"
HOME = "/dashboard/"
# Who may open the dashboard: the supervisors and administrators of a tenant (省级督查员, 管理员).
DASHBOARD_ROLES = frozenset(
    {Role.PROVINCE_ADMIN, Role.PROVINCE_SUPERVISOR, Role.CITY_ADMIN, Role.COUNTY_ADMIN}
)


@dataclass(frozen=True)
class Credentials:
    """What a request carried: a bearer header or the cookies."""

    access: str | None
    refresh: str | None  # only from the cookie

    @classmethod
    def of(cls, headers: Mapping[bytes, bytes]) -> Credentials:
        header = headers.get(b"authorization", b"").decode("latin1")
        scheme, _, token = header.partition(" ")
        cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin1"))

        def value(name: str) -> str | None:
            morsel = cookie.get(name)
            return morsel.value if morsel is not None and morsel.value else None

        if scheme.lower() == "bearer" and token.strip():
            return cls(token.strip(), None)
        return cls(value(ACCESS_COOKIE), value(REFRESH_COOKIE))


def may_view(principal: Principal) -> bool:
    return bool(principal.roles & DASHBOARD_ROLES)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path of this site, never another site."""
    if not value or not value.startswith("/dashboard") or value.startswith("//") or "\\" in value:
        return HOME
    if any(ord(ch) < 0x20 for ch in value):
        return HOME
    return value


def signin_location(next_path: str) -> str:
    return f"{SIGNIN_PATH}?next={quote(safe_next(next_path), safe='/')}"


def _cookie(name: str, value: str, *, max_age: int, secure: bool) -> Cookie:
    return Cookie(
        key=name, value=value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
    )


def session_cookies(tokens: Mapping[str, Any], *, secure: bool) -> list[Cookie]:
    """The cookies of a token response (``access_token``, ``refresh_token`` and their lifetimes)."""
    ttl = int(tokens.get("expires_in") or 300)
    out = [_cookie(ACCESS_COOKIE, str(tokens["access_token"]), max_age=ttl, secure=secure)]
    if tokens.get("refresh_token"):
        refresh_ttl = int(tokens.get("refresh_expires_in") or ttl)
        out.append(_cookie(REFRESH_COOKIE, str(tokens["refresh_token"]), max_age=refresh_ttl, secure=secure))
    return out


def cleared_cookies(*, secure: bool) -> list[Cookie]:
    return [_cookie(name, "", max_age=0, secure=secure) for name in (ACCESS_COOKIE, REFRESH_COOKIE)]

"""The dashboard's browser sign-in (``/signin``, ``/signout``, the session cookies) against the
embedded identity provider over real HTTP, through the real ``create_dashboard_app`` composition:
the form, wrong passwords, a user without a dashboard role, redirects that stay on this site,
renewal of an expired access token with the refresh cookie, and sign-out ending the session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from citylead.api.app import create_dashboard_app
from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.identity.idp import directory
from citylead.identity.passwords import hash_password
from citylead.identity.principal import Role
from citylead.settings import Settings
from tests.integration.idp import PASSWORD, IdpServer, unique
from tests.support import claims_for

SUPERVISOR = unique("sup")  # province supervisor of 安徽
CITY_ADMIN = unique("cadm")  # admin of 阜阳市
DISPATCHER = unique("disp")  # no dashboard role
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
async def users(app_db: Database, idp_seed: None) -> None:
    password_hash = hash_password(PASSWORD)
    async with app_db.transaction(None) as s:
        for username, group, role in (
            (SUPERVISOR, "/34", Role.PROVINCE_SUPERVISOR),
            (CITY_ADMIN, "/34/3412", Role.CITY_ADMIN),
            (DISPATCHER, "/34/3412/341202", Role.DISPATCHER),
        ):
            await directory.ensure_user(
                s, username, password_hash=password_hash, groups=[group], roles=[role.value]
            )


@pytest.fixture(scope="module")
def http(database_urls: DatabaseUrls, idp_server: IdpServer, users: None) -> Iterator[TestClient[Litestar]]:
    settings = Settings()
    settings.server = settings.server.model_copy(
        update={"public_url": idp_server.server_url.removesuffix("/idp/")}
    )
    app = create_dashboard_app(settings, app_database_url=database_urls.app, keys=idp_server.keys)
    with TestClient(app=app, base_url="http://127.0.0.1") as client:
        yield client


def sign_in(
    http: TestClient[Litestar], username: str, password: str = PASSWORD, next_path: str = "/dashboard/"
) -> httpx.Response:
    http.cookies.clear()
    return http.post(
        "/signin",
        data={"username": username, "password": password, "next": next_path},
        follow_redirects=False,
    )


def test_a_browser_without_a_session_is_sent_to_the_form(http: TestClient[Litestar]) -> None:
    http.cookies.clear()
    page = http.get("/dashboard/performance?x=1", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    location = urlsplit(page.headers["location"])
    assert location.path == "/signin"
    assert parse_qs(location.query) == {"next": ["/dashboard/performance?x=1"]}
    form = http.get(page.headers["location"])
    assert form.status_code == 200 and "text/html" in form.headers["content-type"]
    assert 'id="signin-form"' in form.text and "用户名" in form.text and "密码" in form.text
    assert 'value="/dashboard/performance?x=1"' in form.text
    # a callback (not a page) without a session is refused, not redirected
    layout = http.get("/dashboard/_dash-layout", follow_redirects=False)
    assert layout.status_code == 401


def test_wrong_password_and_missing_fields_stay_on_the_form(http: TestClient[Litestar]) -> None:
    wrong = sign_in(http, SUPERVISOR, "not-the-password")
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text and f'value="{SUPERVISOR}"' in wrong.text
    assert "set-cookie" not in wrong.headers
    empty = http.post("/signin", data={"username": "", "password": ""}, follow_redirects=False)
    assert empty.status_code == 400 and "请输入用户名和密码" in empty.text


def test_a_user_without_a_dashboard_role_is_told_so(http: TestClient[Litestar]) -> None:
    refused = sign_in(http, DISPATCHER)
    assert refused.status_code == 403
    assert "无权查看看板" in refused.text
    assert "set-cookie" not in refused.headers


def test_signing_in_sets_httponly_cookies_and_opens_the_dashboard(http: TestClient[Litestar]) -> None:
    done = sign_in(http, CITY_ADMIN, next_path="/dashboard/cases")
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/cases"
    cookies = {c.split("=", 1)[0]: c for c in done.headers.get_list("set-cookie")}
    assert set(cookies) == {"citylead_token", "citylead_refresh"}
    for cookie in cookies.values():
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # served over plain HTTP here
    page = http.get("/dashboard/", headers=HTML, follow_redirects=False)
    assert page.status_code == 200 and "_dash-config" in page.text
    layout = http.get("/dashboard/_dash-layout")
    assert layout.status_code == 200 and isinstance(json.loads(layout.text), dict)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/dashboard", "/api/v1/tenants", "/dashboard\\..\\x"]
)
def test_the_next_page_never_leaves_the_dashboard(http: TestClient[Litestar], target: str) -> None:
    done = sign_in(http, SUPERVISOR, next_path=target)
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/"


def test_an_expired_access_token_is_renewed_with_the_refresh_cookie(
    http: TestClient[Litestar], idp_server: IdpServer
) -> None:
    done = sign_in(http, SUPERVISOR)
    refresh = done.cookies["citylead_refresh"]
    expired = idp_server.keys.sign(
        claims_for(
            SUPERVISOR, ["province_supervisor"], "/34", iss=idp_server.issuer, exp=int(time.time()) - 60
        )
    )
    http.cookies.clear()
    http.cookies.set("citylead_token", expired)
    http.cookies.set("citylead_refresh", refresh)
    page = http.get("/dashboard/", headers=HTML, follow_redirects=False)
    assert page.status_code == 200
    renewed = {
        c.split("=", 1)[0]: c.split(";", 1)[0].split("=", 1)[1] for c in page.headers.get_list("set-cookie")
    }
    assert set(renewed) == {"citylead_token", "citylead_refresh"}
    assert renewed["citylead_token"] != expired
    # the same expired token with a bogus refresh token: signed out
    http.cookies.clear()
    http.cookies.set("citylead_token", expired)
    http.cookies.set("citylead_refresh", "bogus")
    assert http.get("/dashboard/", headers=HTML, follow_redirects=False).status_code == 303


def test_signing_out_clears_the_cookies_and_ends_the_session(
    http: TestClient[Litestar], idp_server: IdpServer
) -> None:
    done = sign_in(http, SUPERVISOR)
    refresh = done.cookies["citylead_refresh"]
    out = http.get("/signout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    cleared = out.headers.get_list("set-cookie")
    assert {c.split("=", 1)[0] for c in cleared} == {"citylead_token", "citylead_refresh"}
    assert all("Max-Age=0" in c for c in cleared)
    # the identity provider's session is over: the old refresh token no longer works
    answer = httpx.post(
        f"{idp_server.server_url}realms/citylead/protocol/openid-connect/token",
        data={"grant_type": "refresh_token", "client_id": "citylead", "refresh_token": refresh},
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_the_probes_answer(http: TestClient[Litestar]) -> None:
    assert http.get("/health").json() == {"status": "ok"}
    assert http.get("/ready").status_code == 200

"""Bearer tokens at the API edge: every bad token is a 401 problem, and tenants never cross."""

from __future__ import annotations

import time
from typing import Any

import pytest
from jwcrypto import jwk, jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from citylead.identity.keys import SigningKeys
from tests.support import Mint, bearer, claims_for

COUNTY = "/32/3204/320411"


def _assert_401(resp: Any, reason: str) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 401 and body["type"] == "urn:citylead:problem:unauthenticated"
    assert reason in body["detail"]
    assert resp.headers["www-authenticate"].startswith('Bearer realm="citylead"')
    assert "Traceback" not in resp.text


async def test_missing_token(client: AsyncTestClient[Litestar]) -> None:
    _assert_401(await client.get("/api/v1/me"), "Bearer token is required")


async def test_not_a_bearer_scheme(client: AsyncTestClient[Litestar]) -> None:
    _assert_401(await client.get("/api/v1/me", headers={"Authorization": "Basic YTpi"}), "Bearer <token>")


async def test_garbage_token(client: AsyncTestClient[Litestar]) -> None:
    _assert_401(await client.get("/api/v1/me", headers=bearer("not.a.jwt")), "malformed")


async def test_expired_token(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    past = int(time.time()) - 3600
    token = mint("county_admin", COUNTY, iat=past - 300, exp=past)
    _assert_401(await client.get("/api/v1/me", headers=bearer(token)), "expired")


async def test_wrong_audience(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    _assert_401(
        await client.get("/api/v1/me", headers=bearer(mint("county_admin", COUNTY, aud="account"))),
        "not for this service",
    )


async def test_wrong_issuer(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    token = mint("county_admin", COUNTY, iss="https://evil.example/realms/citylead")
    _assert_401(await client.get("/api/v1/me", headers=bearer(token)), "not for this service")


async def test_bad_signature_with_the_right_kid(
    client: AsyncTestClient[Litestar], signing_keys: SigningKeys
) -> None:
    """Signed by another key that claims the trusted key's kid."""
    impostor = jwk.JWK.generate(kty="RSA", size=2048, kid=signing_keys.kid)
    token = SigningKeys(impostor).sign(claims_for("county_admin@320411", ["county_admin"], COUNTY))
    _assert_401(await client.get("/api/v1/me", headers=bearer(token)), "signature or claims are invalid")


async def test_unknown_kid(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    token = mint("county_admin", COUNTY, keys=SigningKeys.generate())
    _assert_401(await client.get("/api/v1/me", headers=bearer(token)), "unknown key")


async def test_unsigned_and_symmetric_tokens_are_refused(client: AsyncTestClient[Litestar]) -> None:
    claims = claims_for("county_admin@320411", ["county_admin"], COUNTY)
    hs = jwt.JWT(header={"alg": "HS256", "kid": "x"}, claims=claims)
    hs.make_signed_token(jwk.JWK.generate(kty="oct", size=256))
    _assert_401(await client.get("/api/v1/me", headers=bearer(hs.serialize())), "RS256")


async def test_refresh_token_is_not_an_access_token(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    _assert_401(
        await client.get("/api/v1/me", headers=bearer(mint("county_admin", COUNTY, typ="Refresh"))),
        "not an access token",
    )


async def test_token_without_tenant_group(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    _assert_401(
        await client.get("/api/v1/me", headers=bearer(mint("county_admin", COUNTY, groups=["/staff"]))),
        "no tenant group",
    )


async def test_valid_token(client: AsyncTestClient[Litestar], mint: Mint) -> None:
    resp = await client.get("/api/v1/me", headers=bearer(mint("county_admin", COUNTY)))
    assert resp.status_code == 200
    body = resp.json()
    assert body["username"] == "county_admin@320411"
    assert body["tenant"]["code"] == "320411" and body["tenant"]["name"] == "新北区"
    assert body["roles"] == [{"code": "county_admin", "label": "县级管理员"}]


@pytest.mark.parametrize(
    ("group", "code"),
    [
        (COUNTY, "320412"),  # sibling county
        (COUNTY, "320400"),  # its parent city: in the lineage, but not in the visible subtree
        ("/32/3204", "320505"),  # a city asking for another city's county
        ("/32", "340000"),  # a province asking for another province
    ],
)
async def test_other_tenant_is_the_same_404_as_a_missing_one(
    client: AsyncTestClient[Litestar], mint: Mint, group: str, code: str
) -> None:
    role = {"/32": "province_supervisor", "/32/3204": "city_admin"}.get(group, "county_admin")
    headers = bearer(mint(role, group))
    other = await client.get(f"/api/v1/tenants/{code}", headers=headers)
    missing = await client.get("/api/v1/tenants/329999", headers=headers)
    assert other.status_code == missing.status_code == 404
    strip = lambda b: {k: v for k, v in b.items() if k not in ("detail", "instance")}  # noqa: E731
    assert strip(other.json()) == strip(missing.json())
    assert other.json()["detail"] == f"no tenant {code}"

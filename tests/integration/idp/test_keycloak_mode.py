"""``CITYLEAD_IDENTITY=keycloak``: the API fetches the realm's JWKS over HTTP through
python-keycloak and validates tokens a Keycloak issued.

No real Keycloak server can run here, so the embedded provider stands in for it, served over
real HTTP at its own base URL. The API under test has no embedded provider: it knows only the
Keycloak URL, realm, client id and audience, as in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from keycloak import KeycloakOpenID
from litestar import Litestar
from litestar.testing import AsyncTestClient

from citylead.api.app import create_app
from citylead.db.roles import DatabaseUrls
from citylead.settings import Settings
from tenants.models import Tenant
from tests.integration.idp import PASSWORD, IdpServer


@pytest.fixture
async def keycloak_api(
    idp_server: IdpServer, database_urls: DatabaseUrls, registry: dict[str, Tenant]
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = Settings()
    settings.identity = settings.identity.model_copy(
        update={"identity": "keycloak", "keycloak_url": idp_server.server_url}
    )
    assert settings.issuer == idp_server.issuer
    app = create_app(settings, app_database_url=database_urls.app)
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_a_keycloak_token_is_accepted(
    keycloak_api: AsyncTestClient[Litestar], oidc: KeycloakOpenID
) -> None:
    token = oidc.token("alice", PASSWORD)["access_token"]
    resp = await keycloak_api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    me = resp.json()
    assert me["username"] == "alice" and me["tenant"]["code"] == "320411"
    assert {r["code"] for r in me["roles"]} == {"intake", "dispatcher"}


async def test_tenant_scope_holds_in_keycloak_mode(
    keycloak_api: AsyncTestClient[Litestar], oidc: KeycloakOpenID
) -> None:
    token = oidc.token("alice", PASSWORD)["access_token"]
    resp = await keycloak_api.get("/api/v1/tenants/320412", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404


async def test_no_embedded_provider_is_served_in_keycloak_mode(
    keycloak_api: AsyncTestClient[Litestar],
) -> None:
    resp = await keycloak_api.get("/idp/realms/citylead/.well-known/openid-configuration")
    assert resp.status_code == 404


async def test_keycloak_mode_refuses_tokens_from_another_issuer(
    keycloak_api: AsyncTestClient[Litestar], idp_server: IdpServer
) -> None:
    from tests.support import claims_for

    forged = idp_server.keys.sign(claims_for("alice", ["intake"], "/32/3204/320411"))  # iss: citylead.test
    resp = await keycloak_api.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401 and "not for this service" in resp.json()["detail"]

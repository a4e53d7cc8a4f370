"""The embedded identity provider served over real HTTP, for the synchronous python-keycloak.

``EmbeddedIdpServer`` runs ``create_idp_router(...)`` under uvicorn in a background thread (its
own event loop, so it gets its own engine on the test database, as the application role).
Seeding goes through :mod:`citylead.identity.idp.directory` on ``app_db``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.identity.idp import directory
from citylead.identity.idp.serve import EmbeddedIdpServer, ensure_provisioner_client
from citylead.identity.keys import SigningKeys
from citylead.identity.passwords import hash_password
from citylead.identity.principal import Role
from tests.integration.idp import (
    ALICE_GROUP,
    BACKEND,
    BACKEND_SECRET,
    PASSWORD,
    PROVISIONER,
    PROVISIONER_SECRET,
    REALM,
    IdpServer,
)


@pytest.fixture(scope="session")
async def idp_seed(app_db: Database) -> None:
    """Realm roles, the public ``citylead`` client, two confidential clients, three users."""
    shared_hash = hash_password(PASSWORD)
    async with app_db.transaction(None) as s:
        for role in Role:
            await directory.ensure_realm_role(s, role.value, role.label)
        await directory.ensure_client(s, "citylead", public=True)
        await ensure_provisioner_client(s, PROVISIONER_SECRET)
        await directory.ensure_client(
            s,
            BACKEND,
            public=False,
            secret=BACKEND_SECRET,
            direct_access_grants=False,
            service_account_roles=[Role.PROVINCE_SUPERVISOR.value],
        )
        await directory.ensure_user(
            s,
            "Alice",
            password_hash=shared_hash,
            email="alice@example.org",
            first_name="Alice",
            last_name="Zhang",
            groups=[ALICE_GROUP],
            roles=[Role.INTAKE.value, Role.DISPATCHER.value],
        )
        await directory.ensure_user(s, "bob", password_hash=shared_hash, groups=["/32/3205"])
        await directory.ensure_user(s, "carol", password_hash=shared_hash, enabled=False)


@pytest.fixture(scope="session")
def idp_server(database_urls: DatabaseUrls, idp_seed: None) -> Iterator[IdpServer]:
    keys = SigningKeys.generate()
    with EmbeddedIdpServer(database_urls.app, keys=keys, realm=REALM) as server:
        yield IdpServer(server.server_url, server.issuer, keys)


@pytest.fixture
def oidc(idp_server: IdpServer) -> KeycloakOpenID:
    """The public client, as the browser-facing app uses it."""
    return KeycloakOpenID(server_url=idp_server.server_url, realm_name=REALM, client_id="citylead")


@pytest.fixture
def provisioner_oidc(idp_server: IdpServer) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=idp_server.server_url,
        realm_name=REALM,
        client_id=PROVISIONER,
        client_secret_key=PROVISIONER_SECRET,
    )


@pytest.fixture
def admin(idp_server: IdpServer) -> KeycloakAdmin:
    """The provisioner's admin client: client credentials of a realm-admin service account."""
    connection = KeycloakOpenIDConnection(
        server_url=idp_server.server_url,
        realm_name=REALM,
        client_id=PROVISIONER,
        client_secret_key=PROVISIONER_SECRET,
        user_realm_name=REALM,
    )
    return KeycloakAdmin(connection=connection)

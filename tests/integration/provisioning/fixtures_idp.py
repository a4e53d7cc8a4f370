"""Fixtures for identity provisioning: the embedded provider over real HTTP (``EmbeddedIdpServer``).

The ``idp`` tables are shared by the whole test session, so the seed is idempotent and uses the
same provisioner secret as ``tests/integration/idp``; tests use unique group paths (``/9x…``)
and usernames (:func:`unique_path`, :func:`unique_name`), never ``/32/…``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.identity.idp import directory
from citylead.identity.idp.serve import PROVISIONER_CLIENT, EmbeddedIdpServer, ensure_provisioner_client
from citylead.identity.keys import SigningKeys
from citylead.identity.principal import Role
from provisioning.identity import IdentityTarget
from tests.integration.idp import PROVISIONER_SECRET, REALM

__all__ = ["embedded_idp", "identity_seed", "identity_target", "kc_admin", "kc_login"]

NO_RIGHTS_CLIENT = "citylead-test-no-rights"  # confidential, service account without realm-management
NO_RIGHTS_SECRET = "no-rights-" + uuid.uuid4().hex


def unique_path(depth: int = 3) -> str:
    """``/9x1a2b3c/3204/320411``-shaped: a fresh top group, never one other tests use."""
    segments = [f"9x{uuid.uuid4().hex[:8]}", "3204", "320411"][:depth]
    return "/" + "/".join(segments)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def identity_seed(app_db: Database) -> None:
    """Realm roles, the public ``citylead`` client (to sign in), the provisioner, a client without
    admin rights. Idempotent, and the same values ``tests/integration/idp`` seeds."""
    async with app_db.transaction(None) as s:
        for role in Role:
            await directory.ensure_realm_role(s, role.value, role.label)
        await directory.ensure_client(s, "citylead", public=True)
        await ensure_provisioner_client(s, PROVISIONER_SECRET)
        await directory.ensure_client(
            s, NO_RIGHTS_CLIENT, public=False, secret=NO_RIGHTS_SECRET, direct_access_grants=False
        )


@pytest.fixture(scope="session")
def embedded_idp(database_urls: DatabaseUrls, identity_seed: None) -> Iterator[EmbeddedIdpServer]:
    with EmbeddedIdpServer(database_urls.app, keys=SigningKeys.generate(), realm=REALM) as server:
        yield server


@pytest.fixture
def identity_target(embedded_idp: EmbeddedIdpServer) -> IdentityTarget:
    return IdentityTarget(embedded_idp.server_url, REALM, PROVISIONER_CLIENT, PROVISIONER_SECRET)


@pytest.fixture
def kc_admin(embedded_idp: EmbeddedIdpServer) -> KeycloakAdmin:
    """An independent admin client, to look at what provisioning did."""
    connection = KeycloakOpenIDConnection(
        server_url=embedded_idp.server_url,
        realm_name=REALM,
        user_realm_name=REALM,
        client_id=PROVISIONER_CLIENT,
        client_secret_key=PROVISIONER_SECRET,
    )
    return KeycloakAdmin(connection=connection)


@pytest.fixture
def kc_login(embedded_idp: EmbeddedIdpServer) -> KeycloakOpenID:
    """The public client, as a person signing in uses it."""
    return KeycloakOpenID(server_url=embedded_idp.server_url, realm_name=REALM, client_id="citylead")

"""Fixtures for API tests: the real app (embedded identity mode) and a token minter."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from citylead.api.app import create_app
from citylead.db.roles import DatabaseUrls
from citylead.identity.keys import SigningKeys
from citylead.settings import Settings
from tenants.models import Tenant

PUBLIC_URL = "http://citylead.test"
ISSUER = f"{PUBLIC_URL}/idp/realms/citylead"

Mint = Callable[..., str]


@pytest.fixture(scope="session")
def signing_keys() -> SigningKeys:
    return SigningKeys.generate()


@pytest.fixture(scope="session")
def app(database_urls: DatabaseUrls, signing_keys: SigningKeys, registry: dict[str, Tenant]) -> Litestar:
    settings = Settings()
    settings.server = settings.server.model_copy(update={"public_url": PUBLIC_URL})
    settings.identity = settings.identity.model_copy(update={"identity": "embedded"})
    return create_app(settings, app_database_url=database_urls.app, keys=signing_keys)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as c:
        yield c


def claims_for(username: str, roles: list[str], group: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER, "aud": "citylead", "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
        "typ": "Bearer", "azp": "citylead", "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex,
        "preferred_username": username, "realm_access": {"roles": roles}, "groups": [group],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture(scope="session")
def mint(signing_keys: SigningKeys) -> Mint:
    """``mint("county_admin", "/32/3204/320411")`` → a valid signed access token."""

    def _mint(role: str, group: str, *, keys: SigningKeys | None = None, **overrides: Any) -> str:
        code = group.rstrip("/").rsplit("/", 1)[-1].ljust(6, "0")
        return (keys or signing_keys).sign(claims_for(f"{role}@{code}", [role], group, **overrides))

    return _mint


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

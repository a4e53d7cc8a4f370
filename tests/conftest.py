"""Shared fixtures: a real PostgreSQL, migrated, with the application role and the owner; the
real app in embedded identity mode, and a token minter.

The server is ``CITYLEAD_TEST_DATABASE_URL`` when set (a superuser URL: CI points it at the local
PostgreSQL service), else an embedded one in a temporary directory. Each test session gets a
fresh database, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from citylead.api.app import create_app
from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.identity.keys import SigningKeys
from citylead.settings import Settings
from tenants.models import Tenant
from tenants.registry import load_province
from tests.support import PUBLIC_URL, Mint, claims_for, fresh_database

APP_ROLE = "citylead_app"
OWNER_ROLE = "citylead_owner"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = os.environ.get("CITYLEAD_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from citylead.db.embedded import start_embedded

    home = Path(tempfile.mkdtemp(prefix="citylead-test-pg-"))
    home.chmod(0o755)
    pg = start_embedded(home)
    try:
        yield pg.admin_url
    finally:
        pg.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def database_urls(pg_admin_url: str) -> Iterator[DatabaseUrls]:
    """A fresh database migrated to head, with both roles."""
    with fresh_database(pg_admin_url, "citylead_test") as urls:
        yield urls


@pytest.fixture(scope="session")
async def owner_db(database_urls: DatabaseUrls) -> AsyncIterator[Database]:
    """The owner role (BYPASSRLS): for arranging test data only, never for what is under test."""
    db = Database(database_urls.owner, role=database_urls.owner_role, pool_size=2)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
async def app_db(database_urls: DatabaseUrls) -> AsyncIterator[Database]:
    """The application role: row-level security applies."""
    db = Database(database_urls.app, pool_size=4)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
async def registry(owner_db: Database) -> dict[str, Tenant]:
    """Jiangsu (320000) and Anhui (340000) registered; tenants by code."""
    from sqlalchemy import select

    async with owner_db.transaction(None) as s:
        await load_province(s, "320000")
        await load_province(s, "340000")
    async with owner_db.transaction(None) as s:
        rows = (await s.scalars(select(Tenant))).all()
    return {t.code: t for t in rows}


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


@pytest.fixture(scope="session")
def mint(signing_keys: SigningKeys) -> Mint:
    """``mint("county_admin", "/32/3204/320411")`` → a valid signed access token."""

    def _mint(role: str, group: str, *, keys: SigningKeys | None = None, **overrides: Any) -> str:
        code = group.rstrip("/").rsplit("/", 1)[-1].ljust(6, "0")
        return (keys or signing_keys).sign(claims_for(f"{role}@{code}", [role], group, **overrides))

    return _mint

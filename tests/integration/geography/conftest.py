"""Geography fixtures: counties with their boundaries, app-role transactions, imports.

Each test module works in its own counties (泰州 321200 and 宿迁 321300, which other modules do
not use) so that modules do not depend on one another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from citylead.db import Database
from citylead.geography.importer import ImportReport, do_import_geography
from citylead.geography.index import Locator
from tenants.context import TenantContext
from tenants.models import Tenant

Acting = Callable[[str], AbstractAsyncContextManager[AsyncSession]]
Importer = Callable[..., Awaitable[ImportReport]]


@pytest.fixture(scope="session")
async def counties(owner_db: Database, registry: dict[str, Tenant]) -> dict[str, Tenant]:
    """Every tenant with its boundary loaded, by code."""
    async with owner_db.transaction(None) as s:
        rows = await s.scalars(select(Tenant).options(undefer(Tenant.boundary)))
        return {t.code: t for t in rows}


@pytest.fixture
def acting(app_db: Database, registry: dict[str, Tenant]) -> Acting:
    """``async with acting("321202") as s:`` — a transaction as the app role in that tenant's context."""

    @asynccontextmanager
    async def _acting(code: str) -> AsyncIterator[AsyncSession]:
        async with app_db.transaction(TenantContext(registry[code].path)) as s:
            yield s

    return _acting


@pytest.fixture
def import_geography(acting: Acting, counties: dict[str, Tenant]) -> Importer:
    """``await import_geography("321202", doc, locator=...)`` as the county itself (app role)."""

    async def _import(code: str, doc: Any, *, locator: Locator | None = None) -> ImportReport:
        async with acting(code) as s:
            return await do_import_geography(s, counties[code], doc, acting_user="test", locator=locator)

    return _import

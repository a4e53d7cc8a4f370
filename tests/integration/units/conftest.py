"""Units fixtures: the national baseline (the catalogue the inventory is checked against) and a
transaction as the application role in a tenant's context.

Each module works in its own cities so that modules do not depend on one another: 宿迁 321300
(service), 镇江 321100 (inventory), 淮安 320800 (routing), 蚌埠 340300 (API), 淮南 340400 and
马鞍山 340500 (isolation), 常州 320400 / 新北区 320411 (the demo).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.db import Database
from citylead.units.models import Unit
from citylead.units.service import do_create_unit
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import seed_baseline

Acting = Callable[[str], AbstractAsyncContextManager[AsyncSession]]


@pytest.fixture(scope="session")
async def catalogue(owner_db: Database, registry: dict[str, Tenant]) -> None:
    """The national baseline (idempotent: other packages' fixtures may have published it)."""
    for code in ("320000", "340000"):
        province = registry[code]
        async with owner_db.transaction(TenantContext(province.path)) as s:
            await seed_baseline(s, Resolver(), province)


@pytest.fixture(scope="session")
def acting(app_db: Database, registry: dict[str, Tenant]) -> Acting:
    """``async with acting("321302") as s:`` — a transaction as the app role in that tenant's context."""

    @asynccontextmanager
    async def _acting(code: str) -> AsyncIterator[AsyncSession]:
        async with app_db.transaction(TenantContext(registry[code].path)) as s:
            yield s

    return _acting


async def create_unit(acting: Acting, registry: dict[str, Tenant], tenant: str, **values: Any) -> Unit:
    """Create a unit through the action, as the app role in the tenant's own context."""
    values.setdefault("name", values["code"])
    async with acting(tenant) as s:
        return await do_create_unit(s, registry[tenant], values, acting_user="test")

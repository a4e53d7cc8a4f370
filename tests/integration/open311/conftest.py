"""Open311 fixtures: the national baseline, tenant statuses set (and restored), and a city layer.

Tenants: 常州市 (320400) and its districts 新北区 (320411) and 武进区 (320412), live, as other
modules also set them (the districts are only read; the city publishes additions to its catalogue
and manual layers, keeping whatever else they hold); 安庆市 (340800): 怀宁县
(340822, live, keeps the legacy GB/T 30428 catalogue), 迎江区 (340802, onboarding) and 大观区
(340803, suspended). Statuses are set for each module and put back afterwards, so no other module
sees them. The key tests work in 滁州市 (see test_keys.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tenants.standards.drafts import get_draft
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import publish_layer, seed_baseline

COUNTY, SIBLING, CITY = "320411", "320412", "320400"
LEGACY_COUNTY, ONBOARDING, SUSPENDED = "340822", "340802", "340803"
SUB_ITEM = "catalog/matter/06012-01/name"  # a local sub-item of 道路不洁 (06012), added by the city
SUB_ITEM_NAME = "主次干道路面不洁"
STATUSES = {
    COUNTY: TenantStatus.LIVE,
    SIBLING: TenantStatus.LIVE,
    CITY: TenantStatus.LIVE,
    LEGACY_COUNTY: TenantStatus.LIVE,
    ONBOARDING: TenantStatus.ONBOARDING,
    SUSPENDED: TenantStatus.SUSPENDED,
}

Acting = Callable[[str], Any]


@pytest.fixture(scope="module")
async def open311_statuses(owner_db: Database, registry: dict[str, Tenant]) -> AsyncIterator[None]:
    async with owner_db.transaction(None) as s:
        rows = await s.execute(select(Tenant.code, Tenant.status).where(Tenant.code.in_(list(STATUSES))))
        before = dict(rows.all())
        for code, status in STATUSES.items():
            await s.execute(update(Tenant).where(Tenant.code == code).values(status=status))
    yield
    async with owner_db.transaction(None) as s:
        for code, status in before.items():
            await s.execute(update(Tenant).where(Tenant.code == code).values(status=status))


@pytest.fixture(scope="session")
async def open311_baseline(owner_db: Database, registry: dict[str, Tenant]) -> None:
    """The province baselines, idempotently (the standards tests seed them too)."""
    for code in ("320000", "340000"):
        province = registry[code]
        async with owner_db.transaction(TenantContext(province.path)) as s:
            await seed_baseline(s, Resolver(), province)


async def _add_to_layer(db: Database, tenant: Tenant, kind: Kind, values: dict[str, Any]) -> None:
    """Publish ``values`` on top of what the tenant's layer already holds (other modules' entries
    stay), unless they are there already."""
    async with db.transaction(TenantContext(tenant.path)) as s:
        layer = (await get_draft(s, tenant, kind)).layer
        current = dict(layer.values)
        if all(current.get(p) == v for p, v in values.items()):
            return
        await publish_layer(
            s,
            Resolver(),
            tenant,
            kind,
            {**current, **values},
            policies={p: policy.value for p, policy in layer.policies.items()},
            note="open311 tests",
            acting_user="test:open311",
        )


@pytest.fixture(scope="session")
async def open311_standards(app_db: Database, registry: dict[str, Tenant], open311_baseline: None) -> None:
    """常州市 adds a local sub-item with its own filing condition; 怀宁县 keeps the legacy codes."""
    await _add_to_layer(app_db, registry[CITY], Kind.CATALOG, {SUB_ITEM: SUB_ITEM_NAME})
    filing = {"manual/matter/06012-01/filing": "主次干道路面有明显垃圾、泥沙或油污"}
    await _add_to_layer(app_db, registry[CITY], Kind.MANUAL, filing)
    await _add_to_layer(app_db, registry[LEGACY_COUNTY], Kind.CATALOG, {"catalog/edition": "gbt30428"})


@pytest.fixture
def acting(app_db: Database, registry: dict[str, Tenant]) -> Acting:
    """``async with acting("320411") as s:`` — the app role in that tenant's context."""

    @asynccontextmanager
    async def _acting(code: str) -> AsyncIterator[AsyncSession]:
        async with app_db.transaction(TenantContext(registry[code].path)) as s:
            yield s

    return _acting

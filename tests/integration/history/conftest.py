"""History fixtures: 宿州市 341300 with 埇桥区 341302 and 砀山县 341321 live on the Anhui baseline, with
demo geography, units and inventory; used by no other test."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from citylead.db import Database
from citylead.geography.demo import seed_demo_geography
from citylead.units.demo import seed_demo_units
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import seed_baseline

CITY, COUNTY, SIBLING = "341300", "341302", "341321"


@pytest.fixture(scope="session")
async def suzhou(owner_db: Database, registry: dict[str, Tenant]) -> dict[str, Tenant]:
    """宿州市 and two of its divisions, live with geography and units."""
    province = registry["340000"]
    async with owner_db.transaction(TenantContext(province.path)) as s:
        await seed_baseline(s, Resolver(), province)
    async with owner_db.transaction(None) as s:
        await s.execute(
            update(Tenant).where(Tenant.code.in_([CITY, COUNTY, SIBLING])).values(status=TenantStatus.LIVE)
        )
    await seed_demo_geography(owner_db, [COUNTY, SIBLING])
    await seed_demo_units(owner_db, [COUNTY, SIBLING])
    return {code: registry[code] for code in (CITY, COUNTY, SIBLING)}

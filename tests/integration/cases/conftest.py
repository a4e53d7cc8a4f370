"""Case fixtures: 南通 320600 with 通州区 320612 and 崇川区 320613 live, and 扬州 321000 with 广陵区
321002 (the other city), each with the national baseline, demo geography (grids of ~0.18 km²),
demo units (territorial units per street, sector departments, city-level departments) and a demo
component inventory. Test modules create their own cases, so they do not depend on one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from citylead.db import Database
from citylead.geography.demo import seed_demo_geography
from citylead.geography.models import Grid
from citylead.units.demo import seed_demo_units
from citylead.units.models import Unit
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import seed_baseline
from tests.support import Mint, bearer

COUNTIES = ("320612", "320613", "321002")
CITIES = ("320600", "321000")


@dataclass(frozen=True)
class Spot:
    """A point in a demo grid, with the grid's place."""

    lon: float
    lat: float
    grid: str
    street: str
    community: str


@pytest.fixture(scope="session")
async def case_world(owner_db: Database, registry: dict[str, Tenant]) -> dict[str, list[Spot]]:
    """Live tenants with standards, geography and units; grid centroids per county."""
    province = registry["320000"]
    async with owner_db.transaction(TenantContext(province.path)) as s:
        await seed_baseline(s, Resolver(), province)
    async with owner_db.transaction(None) as s:
        await s.execute(
            update(Tenant).where(Tenant.code.in_([*COUNTIES, *CITIES])).values(status=TenantStatus.LIVE)
        )
    await seed_demo_geography(owner_db, list(COUNTIES))
    await seed_demo_units(owner_db, list(COUNTIES))
    spots: dict[str, list[Spot]] = {}
    async with owner_db.transaction(None) as s:
        for code in COUNTIES:
            grids = await s.scalars(
                select(Grid).where(Grid.tenant_id == registry[code].id).order_by(Grid.code)
            )
            spots[code] = [
                Spot(g.centroid_lon, g.centroid_lat, g.code, g.street_code, g.community_code) for g in grids
            ]
    return spots


class Staff:
    """Bearer headers for ``ROLE@CODE`` users (the demo units list ``department@CODE`` as their
    account, so that user acts for every unit of its county)."""

    def __init__(self, mint: Mint, registry: dict[str, Tenant]) -> None:
        self.mint, self.registry = mint, registry

    def __call__(self, role: str, code: str, **claims: Any) -> dict[str, str]:
        return bearer(self.mint(role, self.registry[code].path.rstrip("/"), **claims))


@pytest.fixture(scope="session")
def staff(mint: Mint, registry: dict[str, Tenant]) -> Staff:
    return Staff(mint, registry)


class Api:
    """Small helpers over the real app for case tests."""

    def __init__(self, client: AsyncTestClient[Litestar], staff: Staff) -> None:
        self.client, self.staff = client, staff

    async def report(
        self, role: str, where: str, spot: Spot, *, expect: int = 201, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "kind": "matter",
            "code": "06012",
            "lon": spot.lon,
            "lat": spot.lat,
            "description": "路面有大片垃圾",
        }
        body.update(fields)
        r = await self.client.post("/api/v1/cases", json=body, headers=self.staff(role, where))
        assert r.status_code == expect, r.text
        return dict(r.json())

    async def act(
        self, case: dict[str, Any], action: str, role: str, code: str, *, expect: int = 200, **body: Any
    ) -> dict[str, Any]:
        r = await self.client.post(
            f"/api/v1/cases/{case['id']}/actions/{action}", json=body, headers=self.staff(role, code)
        )
        assert r.status_code == expect, r.text
        return dict(r.json())

    async def get(self, case: dict[str, Any], role: str, code: str, *, expect: int = 200) -> dict[str, Any]:
        r = await self.client.get(f"/api/v1/cases/{case['id']}", headers=self.staff(role, code))
        assert r.status_code == expect, r.text
        return dict(r.json())


@pytest.fixture
def api(client: AsyncTestClient[Litestar], staff: Staff, case_world: dict[str, list[Spot]]) -> Api:
    return Api(client, staff)


async def unit_codes(owner_db: Database, tenant: Tenant, kind: str) -> list[str]:
    async with owner_db.transaction(None) as s:
        rows = await s.scalars(
            select(Unit.code).where(Unit.tenant_id == tenant.id, Unit.kind == kind).order_by(Unit.code)
        )
        return list(rows)


async def deliver_notifications(app_db: Database) -> int:
    """Run the committed ``notifications.send`` messages of the outbox through the job itself (the
    transport is tested in tests/integration/jobs; here it is who gets told what)."""
    from sqlalchemy import text

    from citylead.jobs.notifications import send
    from citylead.jobs.registry import JobContext

    ctx, done = JobContext(app_db), 0
    async with app_db.transaction(None) as s:
        rows = (await s.execute(text("SELECT * FROM citylead_outbox_claim(1000)"))).mappings().all()
        mine = [r for r in rows if r["actor"] == "notifications.send"]
        for row in mine:
            await send.fn(ctx, **row["payload"])
            done += 1
        if rows:
            await s.execute(text("SELECT citylead_outbox_sent(:ids)"), {"ids": [r["id"] for r in rows]})
    return done

"""The demo's units and inventory for 新北区 320411 (常州市 320400), on the demo geography."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from citylead.db import Database
from citylead.geography.demo import seed_demo_geography
from citylead.geography.models import Street
from citylead.units._formats import RawRow
from citylead.units.demo import DEMO_CLASSES, seed_demo_units
from citylead.units.inventory import validate_rows
from citylead.units.models import Component, Unit
from citylead.units.routing import suggest
from citylead.units.service import units_of_account
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.units.conftest import Acting

CITY, COUNTY = "320400", "320411"
pytestmark = pytest.mark.usefixtures("catalogue", "seeded")


@pytest.fixture(scope="module")
async def seeded(owner_db: Database, registry: dict[str, Tenant]) -> None:
    await seed_demo_geography(owner_db, [COUNTY])
    await seed_demo_units(owner_db, [COUNTY])


async def _units(acting: Acting, registry: dict[str, Tenant], code: str) -> list[Unit]:
    async with acting(code) as s:
        return list(
            await s.scalars(select(Unit).where(Unit.tenant_id == registry[code].id).order_by(Unit.code))
        )


async def test_units_per_county_and_city(acting: Acting, registry: dict[str, Tenant]) -> None:
    city_units = {u.code: u for u in await _units(acting, registry, CITY)}
    assert city_units["PSGL"].name == "常州市排水管理处"
    assert (city_units["LDS"].name, city_units["LDS"].sector) == ("常州市供电公司路灯所", "路灯")
    assert {u.accounts[0] for u in city_units.values() if u.code in ("PSGL", "LDS")} == {"department@320400"}

    units = await _units(acting, registry, COUNTY)
    by_kind: dict[str, list[Unit]] = {}
    for u in units:
        by_kind.setdefault(u.kind, []).append(u)
    assert {u.sector for u in by_kind["sector"]} >= {"城管执法", "园林绿化", "市政", "环卫"}
    async with acting(COUNTY) as s:
        streets = list(await s.scalars(select(Street).where(Street.tenant_id == registry[COUNTY].id)))
    assert streets, "the demo geography has streets"
    territorial = {u.street_code: u for u in by_kind["territorial"]}
    assert set(territorial) == {s.code for s in streets}  # one per street, no more
    assert all(u.name.endswith(("办事处", "人民政府")) for u in territorial.values())
    assert 3 <= len(by_kind["shopfront"]) <= 5
    assert all(
        u.accounts == ["department@320411"] for u in units if u.code in ("CGZF", "YLLH", "SZSS", "HJWS")
    )
    async with acting(COUNTY) as s:  # the county's department user acts for every unit of the county
        acts_for = {(u.tenant_id, u.code) for u in await units_of_account(s, "department@320411")}
    assert {(u.tenant_id, u.code) for u in units} <= acts_for


async def test_the_inventory_passes_the_import_rules(acting: Acting, registry: dict[str, Tenant]) -> None:
    county = registry[COUNTY]
    async with acting(COUNTY) as s:
        objects = list(await s.scalars(select(Component).where(Component.tenant_id == county.id)))
        demo = [c for c in objects if c.source == "demo"]
        assert 100 <= len(demo) <= 300
        assert {c.class_code for c in demo} <= set(DEMO_CLASSES)
        raw = [
            RawRow(
                f"rows/{i}",
                {
                    k: v
                    for k, v in {
                        "object_id": c.object_id,
                        "class_code": c.class_code,
                        "lon": c.lon,
                        "lat": c.lat,
                        "grid_code": c.grid_code,
                        "street_code": c.street_code,
                        "community_code": c.community_code,
                        "owner_unit": c.owner_unit,
                        "maintainer_unit": c.maintainer_unit,
                    }.items()
                    if v is not None
                },
            )
            for i, c in enumerate(demo)
        ]
        values, problems = await validate_rows(s, Resolver(), county, raw)
    assert problems == []
    recorded = {(c.object_id, c.owner_tenant_id, c.maintainer_tenant_id) for c in demo}
    assert {(v["object_id"], v["owner_tenant_id"], v["maintainer_tenant_id"]) for v in values} == recorded


async def test_seeding_again_changes_nothing(
    owner_db: Database, acting: Acting, registry: dict[str, Tenant]
) -> None:
    async def counts() -> tuple[int, int]:
        async with acting(COUNTY) as s:
            t = registry[COUNTY].id
            units = await s.scalar(select(func.count()).select_from(Unit).where(Unit.tenant_id == t))
            objects = await s.scalar(
                select(func.count()).select_from(Component).where(Component.tenant_id == t)
            )
        return int(units or 0), int(objects or 0)

    before = await counts()
    await seed_demo_units(owner_db, [COUNTY])
    assert await counts() == before


async def test_a_demo_cover_routes_to_the_citys_drainage(acting: Acting, registry: dict[str, Tenant]) -> None:
    county = registry[COUNTY]
    async with acting(COUNTY) as s:
        cover = await s.scalar(
            select(Component)
            .where(Component.tenant_id == county.id, Component.class_code == "01002")
            .order_by(Component.object_id)
            .limit(1)
        )
        assert cover is not None
        found = await suggest(
            s,
            county,
            kind="component",
            code="01002",
            responsible="owner_first",
            street_code=cover.street_code,
            lon=cover.lon,
            lat=cover.lat,
        )
    assert (found.unit_code, found.unit_tenant_id, found.basis) == ("PSGL", registry[CITY].id, "maintainer")
    assert found.component_id is not None and found.component_id.startswith(f"{COUNTY}01002")

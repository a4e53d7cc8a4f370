"""Isolation of units and components, as the application role with row-level security forced.

淮南市 340400 with 大通区 340402 (the owner of the rows) and 田家庵区 340403 (its sibling);
马鞍山市 340500 and 花山区 340503 (the other city). Units are read along the lineage (a county sees
its city's departments) but written only by their own tenant; components only in the subtree.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from citylead.units.inventory import do_import_components
from citylead.units.models import Component, Unit
from citylead.units.service import do_update_unit
from tenants.errors import NotFound
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.units.conftest import Acting, create_unit

CITY, COUNTY, SIBLING, OTHER_CITY, OTHER_COUNTY = "340400", "340402", "340403", "340500", "340503"
OTHERS = [SIBLING, OTHER_CITY, OTHER_COUNTY]


@pytest.fixture(scope="module")
async def rows(acting: Acting, registry: dict[str, Tenant], catalogue: None) -> None:
    await create_unit(acting, registry, COUNTY, code="iso-own", kind="sector", sector="市政")
    await create_unit(acting, registry, CITY, code="iso-city", kind="sector", sector="排水")
    for code, object_id in ((COUNTY, "34040201002000001"), (CITY, "34040001002000001")):
        data = f"object_id,class_code,lon,lat\n{object_id},01002,117.0,32.6\n".encode()
        async with acting(code) as s:
            await do_import_components(s, Resolver(), registry[code], data, "text/csv", acting_user="test")


pytestmark = pytest.mark.usefixtures("rows")


async def _count(acting: Acting, actor: str, model: type[Unit] | type[Component], owner: Tenant) -> int:
    async with acting(actor) as s:
        return int(
            await s.scalar(select(func.count()).select_from(model).where(model.tenant_id == owner.id)) or 0
        )


async def _insert(acting: Acting, actor: str, row: Unit) -> None:
    async with acting(actor) as s:
        s.add(row)
        await s.flush()


@pytest.mark.parametrize(
    ("actor", "sees"),
    [(COUNTY, True), (CITY, True), (SIBLING, False), (OTHER_CITY, False), (OTHER_COUNTY, False)],
)
async def test_who_reads_a_countys_units_and_components(
    acting: Acting, registry: dict[str, Tenant], actor: str, sees: bool
) -> None:
    owner = registry[COUNTY]
    assert await _count(acting, actor, Unit, owner) == (1 if sees else 0)
    assert await _count(acting, actor, Component, owner) == (1 if sees else 0)


@pytest.mark.parametrize(
    ("actor", "sees"),
    [(COUNTY, True), (SIBLING, True), (CITY, True), (OTHER_CITY, False), (OTHER_COUNTY, False)],
)
async def test_the_citys_units_are_read_by_its_counties_only(
    acting: Acting, registry: dict[str, Tenant], actor: str, sees: bool
) -> None:
    assert await _count(acting, actor, Unit, registry[CITY]) == (1 if sees else 0)


async def test_the_citys_components_stay_with_the_city(acting: Acting, registry: dict[str, Tenant]) -> None:
    assert await _count(acting, CITY, Component, registry[CITY]) == 1
    assert await _count(acting, COUNTY, Component, registry[CITY]) == 0


@pytest.mark.parametrize("actor", [*OTHERS, CITY])
async def test_no_one_else_changes_a_countys_rows(
    acting: Acting, registry: dict[str, Tenant], actor: str
) -> None:
    owner = registry[COUNTY].id
    async with acting(actor) as s:
        changed = await s.execute(update(Unit).where(Unit.tenant_id == owner).values(name="hijacked"))
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        moved = await s.execute(update(Component).where(Component.tenant_id == owner).values(lon=0.0))
        assert moved.rowcount == 0  # type: ignore[attr-defined]
        gone = await s.execute(delete(Component).where(Component.tenant_id == owner))
        assert gone.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="row-level security"):
        await _insert(acting, actor, Unit(tenant_id=owner, code=f"iso-{actor}", name="x", kind="sector"))
    async with acting(COUNTY) as s:  # positive control: the rows are intact
        unit = await s.scalar(select(Unit).where(Unit.tenant_id == owner, Unit.code == "iso-own"))
        assert unit is not None and unit.name == "iso-own"
        assert await s.scalar(select(Component.lon).where(Component.tenant_id == owner)) == 117.0


async def test_a_county_reads_but_cannot_change_its_citys_units(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    city = registry[CITY]
    async with acting(COUNTY) as s:
        changed = await s.execute(update(Unit).where(Unit.tenant_id == city.id).values(name="hijacked"))
        assert changed.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(NotFound):  # the action, in the county's context, does not find it to lock
        async with acting(COUNTY) as s:
            await do_update_unit(
                s, city, "iso-city", {"name": "hijacked"}, expected_version=1, acting_user="x"
            )
    with pytest.raises(DBAPIError, match="row-level security"):
        await _insert(
            acting, COUNTY, Unit(tenant_id=city.id, code="iso-from-county", name="x", kind="sector")
        )
    async with acting(CITY) as s:
        assert (
            await s.scalar(select(Unit.name).where(Unit.tenant_id == city.id, Unit.code == "iso-city"))
            == "iso-city"
        )


async def test_units_are_never_deleted_only_deactivated(acting: Acting) -> None:
    with pytest.raises(DBAPIError, match="permission denied"):
        async with acting(COUNTY) as s:
            await s.execute(text("DELETE FROM units"))

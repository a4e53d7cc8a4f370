"""The component inventory import, as the application role: all problems listed and nothing
written, upsert by object id, both formats, and a 10,000-row file.

镇江市 321100 and 京口区 321102 (the importing county), 润州区 321111 (its sibling).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from citylead.units.inventory import do_import_components, get_component, list_components
from citylead.units.models import Component, ComponentState
from tenants.audit import AuditEvent
from tenants.errors import InvalidInput, UnsupportedMediaType
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.units.conftest import Acting, create_unit

CITY, COUNTY = "321100", "321102"
HEADER = (
    "object_id,class_code,name,state,lon,lat,grid_code,street_code,owner_unit,maintainer_unit,installed_on"
)

pytestmark = pytest.mark.usefixtures("catalogue", "units")


@pytest.fixture(scope="module")
async def units(acting: Acting, registry: dict[str, Tenant]) -> None:
    await create_unit(acting, registry, COUNTY, code="inv-szss", kind="sector", sector="市政")
    await create_unit(acting, registry, CITY, code="inv-psgl", kind="sector", sector="排水")


def csv(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode()


def row(serial: int, klass: str = "01002", **over: str) -> str:
    values = {
        "object_id": f"{COUNTY}{klass}{serial:06d}",
        "class_code": klass,
        "name": "",
        "state": "完好",
        "lon": "119.4500",
        "lat": "32.2000",
        "grid_code": "",
        "street_code": "321102001",
        "owner_unit": "inv-psgl",
        "maintainer_unit": "inv-szss",
        "installed_on": "2020-05-01",
    }
    values.update(over)
    return ",".join(values[h] for h in HEADER.split(","))


async def _import(acting: Acting, registry: dict[str, Tenant], data: bytes, media: str = "text/csv") -> Any:
    async with acting(COUNTY) as s:
        return await do_import_components(s, Resolver(), registry[COUNTY], data, media, acting_user="test")


async def _count(acting: Acting, registry: dict[str, Tenant], prefix: str) -> int:
    async with acting(COUNTY) as s:
        n = await s.scalar(
            select(func.count()).where(
                Component.tenant_id == registry[COUNTY].id, Component.object_id.startswith(prefix)
            )
        )
    return int(n or 0)


async def test_every_problem_is_listed_and_nothing_is_imported(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    data = csv(
        row(901),  # fine
        row(902, object_id="32111101002000902"),  # another county's id
        row(903, object_id="32110201003000903"),  # class in the id differs from class_code
        row(904, klass="01999"),  # not a component class in the catalogue
        row(905, lon="32.2", lat="119.45"),  # swapped
        row(906, state="坏了"),
        row(907, owner_unit="nobody"),
        row(901),  # repeats row 2
        row(909, installed_on="2020-13-01", grid_code="999999999999999"),
        row(910, street_code="321111001"),
    )
    with pytest.raises(InvalidInput) as caught:
        await _import(acting, registry, data)
    found = {(p.field, p.rule.split(" ")[0]) for p in caught.value.errors}
    assert {f for f, _ in found} == {
        "rows/3/object_id",
        "rows/4/object_id",
        "rows/5/class_code",
        "rows/6/lon",
        "rows/6/lat",
        "rows/7/state",
        "rows/8/owner_unit",
        "rows/9/object_id",
        "rows/10/installed_on",
        "rows/10/grid_code",
        "rows/11/street_code",
    }
    rules = {p.field: p.rule for p in caught.value.errors}
    assert rules["rows/3/object_id"] == "must start with the county code 321102"
    assert "京口区" in rules["rows/5/class_code"]
    assert rules["rows/9/object_id"] == "repeats rows/2/object_id"
    assert "nothing was imported" in caught.value.detail
    assert await _count(acting, registry, f"{COUNTY}01") == 0


async def test_header_problems_are_listed(acting: Acting, registry: dict[str, Tenant]) -> None:
    with pytest.raises(InvalidInput) as caught:
        await _import(acting, registry, csv("x,y", header="object_id,owner"))
    fields = sorted(p.field for p in caught.value.errors)
    assert fields[:4] == ["header", "header", "header", "header/owner"]
    assert {p.rule for p in caught.value.errors if p.field == "header"} == {
        "must have the column class_code",
        "must have the column lon",
        "must have the column lat",
    }


async def test_import_then_reimport_updates_by_object_id(acting: Acting, registry: dict[str, Tenant]) -> None:
    first = await _import(
        acting, registry, csv(row(1), row(2, klass="03005", owner_unit="", maintainer_unit=""))
    )
    assert (first.format, first.received, first.inserted, first.updated) == ("csv", 2, 2, 0)
    county, city = registry[COUNTY], registry[CITY]
    async with acting(COUNTY) as s:
        cover = await get_component(s, county, f"{COUNTY}01002000001")
        bin_ = await get_component(s, county, f"{COUNTY}03005000002")
    assert (cover.name, cover.state, cover.edition) == (
        "污水井盖",
        "intact",
        "2026",
    )  # name from the catalogue
    assert (cover.owner_unit, cover.owner_tenant_id) == ("inv-psgl", city.id)  # the city's unit
    assert (cover.maintainer_unit, cover.maintainer_tenant_id) == ("inv-szss", county.id)
    assert (bin_.owner_unit, bin_.owner_tenant_id) == (None, None)

    again = await _import(
        acting, registry, csv(row(1, state="破损", name="东门污水井盖"), row(2, klass="03005"), row(3))
    )
    assert (again.received, again.inserted, again.updated) == (3, 1, 2)
    async with acting(COUNTY) as s:
        cover = await get_component(s, county, f"{COUNTY}01002000001")
        events = list(
            await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == county.id, AuditEvent.action == "components.imported")
                .order_by(AuditEvent.at)
            )
        )
    assert (cover.name, cover.component_state) == ("东门污水井盖", ComponentState.DAMAGED)
    assert [(e.data["inserted"], e.data["updated"]) for e in events][-2:] == [(2, 0), (1, 2)]


async def test_legacy_ids_and_geojson(acting: Acting, registry: dict[str, Tenant]) -> None:
    def feature(object_id: Any, klass: str, coords: list[float], **props: Any) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": coords},
            "properties": {"object_id": object_id, "class_code": klass, **props},
        }

    good = {"type": "FeatureCollection", "features": [feature(f"{COUNTY}0101000077", "0101", [119.45, 32.2])]}
    report = await _import(acting, registry, json.dumps(good).encode(), "application/geo+json")
    assert (report.format, report.inserted) == ("geojson", 1)
    async with acting(COUNTY) as s:
        legacy = await get_component(s, registry[COUNTY], f"{COUNTY}0101000077")
    assert (legacy.edition, legacy.class_code, legacy.name) == ("legacy", "0101", "上水井盖")

    bad = {
        "type": "FeatureCollection",
        "features": [
            feature(32110201002000078, "01002", [119.45, 32.2]),  # a JSON number loses digits
            feature(f"{COUNTY}01002000079", "01002", [200, 32.2], lon=1),
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": []}},
        ],
    }
    with pytest.raises(InvalidInput) as caught:
        await _import(acting, registry, json.dumps(bad).encode(), "application/json")
    assert sorted(p.field for p in caught.value.errors) == [
        "features/0/properties/object_id",
        "features/1/geometry/coordinates/0",
        "features/1/properties/lon",
        "features/2/geometry",
    ]


async def test_other_media_types_are_refused(acting: Acting, registry: dict[str, Tenant]) -> None:
    with pytest.raises(UnsupportedMediaType):
        await _import(acting, registry, b"<xml/>", "application/xml")


async def test_a_gb18030_spreadsheet_export_is_read(acting: Acting, registry: dict[str, Tenant]) -> None:
    data = csv(row(501, name="南门雨水井盖", klass="01003")).decode().encode("gb18030")
    report = await _import(acting, registry, data)
    assert report.inserted == 1
    async with acting(COUNTY) as s:
        assert (await get_component(s, registry[COUNTY], f"{COUNTY}01003000501")).name == "南门雨水井盖"


async def test_ten_thousand_rows_in_one_import(acting: Acting, registry: dict[str, Tenant]) -> None:
    rows = [row(100_000 + i, klass="01037", lon=f"{119.40 + i * 1e-5:.5f}") for i in range(10_000)]
    started = time.perf_counter()
    report = await _import(acting, registry, csv(*rows))
    elapsed = time.perf_counter() - started
    assert (report.received, report.inserted) == (10_000, 10_000)
    async with acting(COUNTY) as s:
        page = await list_components(s, registry[COUNTY], class_code="01037", page_size=5)
    assert page.total == 10_000
    assert page.items[0].object_id == f"{COUNTY}01037100000"
    print(f"10,000-row import: {elapsed:.2f} s")  # noqa: T201 - reported, not asserted

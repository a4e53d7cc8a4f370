"""``/api/v1/tenants/{code}/units`` and ``…/components`` through the real app: who may read and
write, 404 for other tenants, 409 on a stale version, 415 and 422 that name the problem.

蚌埠市 340300, 龙子湖区 340302 (the county), 蚌山区 340303 (its sibling).
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support import Mint, bearer

CITY, COUNTY, SIBLING = "340300", "340302", "340303"
CITY_G, COUNTY_G, SIBLING_G = "/34/3403", "/34/3403/340302", "/34/3403/340303"

Client = AsyncTestClient[Litestar]
pytestmark = pytest.mark.usefixtures("catalogue")


def units(code: str, tail: str = "") -> str:
    return f"/api/v1/tenants/{code}/units{tail}"


def components(code: str, tail: str = "") -> str:
    return f"/api/v1/tenants/{code}/components{tail}"


async def test_a_county_admin_creates_reads_and_changes_a_unit(client: Client, mint: Mint) -> None:
    admin = bearer(mint("county_admin", COUNTY_G))
    body = {"code": "api-yllh", "name": "龙子湖区园林绿化管理所", "kind": "sector", "sector": "园林绿化"}
    r = await client.post(units(COUNTY), json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json() | {"accounts": None} == {
        "tenant": COUNTY,
        "code": "api-yllh",
        "name": "龙子湖区园林绿化管理所",
        "kind": "sector",
        "kind_label": "专业部门",
        "sector": "园林绿化",
        "street_code": None,
        "classes": [],
        "accounts": None,
        "credit_code": None,
        "contact": None,
        "active": True,
        "version": 1,
    }
    assert (await client.post(units(COUNTY), json=body, headers=admin)).status_code == 409

    r = await client.patch(
        units(COUNTY, "/api-yllh"), json={"version": 1, "contact": "0552-1234567"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert (r.json()["contact"], r.json()["version"]) == ("0552-1234567", 2)
    stale = await client.patch(
        units(COUNTY, "/api-yllh"), json={"version": 1, "active": False}, headers=admin
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2

    r = await client.patch(units(COUNTY, "/api-yllh"), json={"version": 2, "active": False}, headers=admin)
    assert r.json()["active"] is False
    staff = bearer(mint("dispatcher", COUNTY_G))
    got = await client.get(units(COUNTY, "/api-yllh"), headers=staff)
    assert (got.status_code, got.json()["version"]) == (200, 3)


async def test_invalid_units_are_422_naming_field_and_rule(client: Client, mint: Mint) -> None:
    admin = bearer(mint("county_admin", COUNTY_G))
    body = {
        "code": "api-bad",
        "name": "x",
        "kind": "territorial",
        "street_code": "340303001",
        "classes": ["x"],
    }
    r = await client.post(units(COUNTY), json=body, headers=admin)
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert set(errors) == {"street_code", "classes/0"}
    assert errors["street_code"]["value"] == "340303001"
    assert "340302" in errors["street_code"]["rule"]
    assert (await client.get(units(COUNTY, "/api-bad"), headers=admin)).status_code == 404


async def test_operating_roles_read_but_do_not_write(client: Client, mint: Mint) -> None:
    staff = bearer(mint("dispatcher", COUNTY_G))
    body = {"code": "api-staff", "name": "x", "kind": "sector", "sector": "环卫"}
    assert (await client.post(units(COUNTY), json=body, headers=staff)).status_code == 403
    assert (await client.get(units(COUNTY), headers=staff)).status_code == 200
    data = "object_id,class_code,lon,lat\n34030201002000001,01002,117.39,32.94\n"
    r = await client.put(components(COUNTY), content=data, headers=staff | {"Content-Type": "text/csv"})
    assert r.status_code == 403
    assert (await client.get(units(COUNTY))).status_code == 401


async def test_city_departments_are_written_by_the_city_and_read_by_its_counties(
    client: Client, mint: Mint
) -> None:
    city = bearer(mint("city_admin", CITY_G))
    county = bearer(mint("county_admin", COUNTY_G))
    body = {"code": "api-psgl", "name": "蚌埠市排水管理处", "kind": "sector", "sector": "排水"}
    assert (await client.post(units(CITY), json=body, headers=city)).status_code == 201
    # a city admin also administers its counties: the row is the county's
    r = await client.post(units(COUNTY), json=body | {"code": "api-by-city"}, headers=city)
    assert (r.status_code, r.json()["tenant"]) == (201, COUNTY)
    # the county reads the city's department, alone or with its own units, but never writes it
    assert (await client.get(units(CITY, "/api-psgl"), headers=county)).status_code == 200
    listed = await client.get(units(COUNTY), params={"lineage": "true", "sector": "排水"}, headers=county)
    assert {(u["tenant"], u["code"]) for u in listed.json()["items"]} == {
        (CITY, "api-psgl"),
        (COUNTY, "api-by-city"),
    }
    r = await client.patch(units(CITY, "/api-psgl"), json={"version": 1, "name": "改名"}, headers=county)
    assert r.status_code == 404
    assert (await client.post(units(CITY), json=body | {"code": "api-x"}, headers=county)).status_code == 404


async def test_other_tenants_get_404(client: Client, mint: Mint) -> None:
    admin = bearer(mint("county_admin", COUNTY_G))
    await client.post(
        units(COUNTY),
        json={"code": "api-own", "name": "x", "kind": "sector", "sector": "市政"},
        headers=admin,
    )
    sibling = bearer(mint("county_admin", SIBLING_G))
    other = bearer(mint("city_admin", "/34/3404"))
    for who in (sibling, other):
        assert (await client.get(units(COUNTY), headers=who)).status_code == 404
        assert (await client.get(units(COUNTY, "/api-own"), headers=who)).status_code == 404
        assert (
            await client.patch(units(COUNTY, "/api-own"), json={"version": 1, "name": "y"}, headers=who)
        ).status_code == 404
        assert (await client.get(components(COUNTY), headers=who)).status_code == 404
        r = await client.put(components(COUNTY), content=b"x", headers=who | {"Content-Type": "text/csv"})
        assert r.status_code == 404


async def test_inventory_import_list_and_fetch(client: Client, mint: Mint) -> None:
    admin = bearer(mint("county_admin", COUNTY_G))
    csv = (
        "object_id,class_code,state,lon,lat,street_code\n"
        "34030201002000001,01002,破损,117.3900,32.9400,340302001\n"
        "34030201037000001,01037,完好,117.3910,32.9410,340302002\n"
    )
    r = await client.put(
        components(COUNTY), content=csv, headers=admin | {"Content-Type": "text/csv; charset=utf-8"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"tenant": COUNTY, "format": "csv", "received": 2, "inserted": 2, "updated": 0}

    staff = bearer(mint("supervisor", COUNTY_G))
    listed = await client.get(components(COUNTY), params={"class": "01037"}, headers=staff)
    assert [c["object_id"] for c in listed.json()["items"]] == ["34030201037000001"]
    assert listed.json()["total"] == 1
    one = await client.get(components(COUNTY, "/34030201002000001"), headers=staff)
    assert (one.json()["state"], one.json()["state_label"], one.json()["name"]) == (
        "damaged",
        "破损",
        "污水井盖",
    )
    assert (await client.get(components(COUNTY, "/34030201002000999"), headers=staff)).status_code == 404
    city = bearer(mint("city_admin", CITY_G))  # the city reads its counties' inventories
    assert (await client.get(components(COUNTY, "/34030201002000001"), headers=city)).status_code == 200


async def test_import_415_and_422(client: Client, mint: Mint) -> None:
    admin = bearer(mint("county_admin", COUNTY_G))
    r = await client.put(
        components(COUNTY), content=b"<x/>", headers=admin | {"Content-Type": "application/xml"}
    )
    assert r.status_code == 415
    assert "text/csv" in r.json()["detail"]
    bad = "object_id,class_code,lon,lat\n34030301002000001,01002,117.39,32.94\n34030201002000002,01002,1,2\n"
    r = await client.put(components(COUNTY), content=bad, headers=admin | {"Content-Type": "text/csv"})
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["rows/2/object_id", "rows/3/lat", "rows/3/lon"]
    listed = await client.get(components(COUNTY), params={"class": "01002"}, headers=admin)
    assert "34030201002000002" not in [c["object_id"] for c in listed.json()["items"]]

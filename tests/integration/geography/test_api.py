"""``/api/v1/tenants/{code}/geography`` through the real app: import, lists, locate, refusals.

泰州市: 兴化市 321281 is imported by its own administrator, 靖江市 321282 by the city's; 泰兴市
321283 is the sibling that must see neither.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from citylead.geography.demo import demo_geography
from tenants.models import Tenant
from tests.integration.geography.support import Frame
from tests.support import Mint, bearer

COUNTY, BY_CITY, SIBLING, CITY = "321281", "321282", "321283", "321200"
Client = AsyncTestClient[Litestar]


def url(code: str, tail: str = "") -> str:
    return f"/api/v1/tenants/{code}/geography{tail}"


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    return {}


@pytest.fixture
async def imported(
    client: Client, mint: Mint, counties: dict[str, Tenant], state: dict[str, Any]
) -> dict[str, Any]:
    """兴化市's demo geography, PUT once by its county administrator; the response body."""
    if not state:
        r = await client.put(
            url(COUNTY),
            json=demo_geography(counties[COUNTY]),
            headers=bearer(mint("county_admin", "/32/3212/321281")),
        )
        assert r.status_code == 200, r.text
        state.update(r.json())
    return state


def test_the_import_answers_with_counts(imported: dict[str, Any]) -> None:
    assert imported["tenant"] == COUNTY
    assert (imported["streets"], imported["communities"]) == (4, 12)
    assert 80 <= imported["grids"] <= 150
    assert imported["area_km2"] == pytest.approx(imported["grids"] * 0.1764, rel=0.25)
    assert imported["version"] >= 1


async def test_lists_and_summary(imported: dict[str, Any], client: Client, mint: Mint) -> None:
    staff = bearer(mint("dispatcher", "/32/3212/321281"))
    summary = (await client.get(url(COUNTY), headers=staff)).json()
    assert (summary["version"], summary["grids"]) == (imported["version"], imported["grids"])
    assert summary["imported_by"] == "county_admin@321281"
    streets = (await client.get(url(COUNTY, "/streets"), headers=staff)).json()
    assert [s["code"] for s in streets["items"]] == [f"{COUNTY}00{i}" for i in range(1, 5)]
    assert streets["items"][0]["kind_label"] == "街道"
    assert sum(s["grids"] for s in streets["items"]) == imported["grids"]
    communities = (
        await client.get(url(COUNTY, "/communities"), headers=staff, params={"street": f"{COUNTY}002"})
    ).json()
    assert [c["code"] for c in communities["items"]] == [f"{COUNTY}002{i:03d}" for i in (1, 2, 3)]
    community = f"{COUNTY}002001"
    page = (
        await client.get(
            url(COUNTY, "/grids"), headers=staff, params={"community": community, "page_size": 5}
        )
    ).json()
    assert page["total"] == communities["items"][0]["grids"]
    assert [g["code"] for g in page["items"]] == [f"{community}{i:03d}" for i in range(1, 6)]
    assert "geometry" not in page["items"][0]
    second = (
        await client.get(
            url(COUNTY, "/grids"),
            headers=staff,
            params={"street": f"{COUNTY}002", "page": 2, "page_size": 5, "geometry": "true"},
        )
    ).json()
    assert second["items"][0]["code"] == f"{community}006"
    assert second["items"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


async def test_locate_in_the_county_and_through_the_city(
    imported: dict[str, Any], client: Client, mint: Mint, counties: dict[str, Tenant]
) -> None:
    grid = (
        await client.get(
            url(COUNTY, "/grids"),
            headers=bearer(mint("supervisor", "/32/3212/321281")),
            params={"page_size": 1},
        )
    ).json()["items"][0]
    lon, lat = grid["centroid"]
    for code, group in ((COUNTY, "/32/3212/321281"), (CITY, "/32/3212")):
        r = await client.get(
            url(code, "/locate"), params={"lon": lon, "lat": lat}, headers=bearer(mint("intake", group))
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["tenant"], body["grid_code"]) == (COUNTY, grid["code"])
        assert (body["street_code"], body["community_code"]) == (grid["street_code"], grid["community_code"])
    frame = Frame(counties[COUNTY])
    far = frame.lonlat(*frame.outside(3_000))
    r = await client.get(
        url(COUNTY, "/locate"),
        params={"lon": far[0], "lat": far[1]},
        headers=bearer(mint("intake", "/32/3212/321281")),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    [error] = r.json()["errors"]
    assert error["field"] == "location"
    assert error["rule"] == f"outside the county boundary of {counties[COUNTY].name} ({COUNTY})"
    r = await client.get(
        url(COUNTY, "/locate"),
        params={"lon": 200, "lat": 32},
        headers=bearer(mint("intake", "/32/3212/321281")),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "location"


async def test_an_admin_above_the_county_may_import_it(
    client: Client, mint: Mint, counties: dict[str, Tenant]
) -> None:
    r = await client.put(
        url(BY_CITY), json=demo_geography(counties[BY_CITY]), headers=bearer(mint("city_admin", "/32/3212"))
    )
    assert r.status_code == 200, r.text
    assert r.json()["tenant"] == BY_CITY
    summary = (await client.get(url(BY_CITY), headers=bearer(mint("county_admin", "/32/3212/321282")))).json()
    assert summary["imported_by"] == "city_admin@321200"


async def test_refusals(
    imported: dict[str, Any], client: Client, mint: Mint, counties: dict[str, Tenant]
) -> None:
    doc = demo_geography(counties[COUNTY])
    intake = bearer(mint("intake", "/32/3212/321281"))
    sibling = bearer(mint("county_admin", "/32/3212/321283"))
    admin = bearer(mint("county_admin", "/32/3212/321281"))
    r = await client.put(url(COUNTY), json=doc, headers=intake)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    # Another county: the same 404 as a county that does not exist, for writes and reads alike.
    for method, path in (
        ("put", ""),
        ("get", ""),
        ("get", "/streets"),
        ("get", "/grids"),
        ("get", "/locate?lon=120&lat=33"),
    ):
        kwargs: dict[str, Any] = {"json": doc} if method == "put" else {}
        r = await getattr(client, method)(url(COUNTY, path), headers=sibling, **kwargs)
        assert r.status_code == 404, (method, path, r.text)
    assert (await client.get(url("329999", "/streets"), headers=sibling)).status_code == 404
    # A city holds no geography of its own.
    r = await client.put(url(CITY), json=doc, headers=bearer(mint("city_admin", "/32/3212")))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "code", "rule": "must be a county-level division (市辖区, 县级市 or 县)", "value": CITY}
    ]
    # Invalid content: problem+json listing each problem; nothing changed.
    bad = demo_geography(counties[COUNTY])
    bad["features"][0]["properties"]["code"] = "321281500"
    bad["features"][-1]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[120, 33], [120.1, 33.1], [120.1, 33], [120, 33.1], [120, 33]]],
    }
    r = await client.put(url(COUNTY), json=bad, headers=admin)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "urn:citylead:problem:invalid-input"
    fields = [e["field"] for e in body["errors"]]
    last = len(bad["features"]) - 1
    assert "features/0/properties/code" in fields and f"features/{last}/geometry" in fields
    assert any(e["rule"].startswith("must be a valid polygon: Self-intersection") for e in body["errors"])
    summary = (await client.get(url(COUNTY), headers=admin)).json()
    assert summary["version"] == imported["version"]
    r = await client.put(
        url(COUNTY), content=b"not json", headers={**admin, "content-type": "application/json"}
    )
    assert r.status_code == 400

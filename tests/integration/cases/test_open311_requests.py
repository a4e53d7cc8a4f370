"""Open311 GeoReport v2 service requests are cases of the county: POST files one through intake,
GET reads them back shaped as the specification says (checked field by field)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.cases.conftest import Api, Spot
from tests.unit.test_open311_formats import REQUEST_FIELDS as FIELDS

C = "320612"


@pytest.fixture
async def api_key(api: Api, client: AsyncTestClient[Litestar]) -> str:
    r = await client.post(
        f"/api/v1/tenants/{C}/open311/clients",
        json={"name": "市民通App"},
        headers=api.staff("county_admin", C),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["api_key"])


async def post(client: AsyncTestClient[Litestar], ext: str, **form: Any) -> Any:
    return await client.post(f"/open311/v2/requests.{ext}", data={k: str(v) for k, v in form.items()})


async def test_post_then_get_a_request(
    api: Api, client: AsyncTestClient[Litestar], api_key: str, case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][50]
    r = await post(
        client,
        "json",
        jurisdiction_id=C,
        api_key=api_key,
        service_code="matter-06018",
        lat=spot.lat,
        long=spot.lon,
        description="路边有废弃家具",
        email="citizen@example.cn",
        first_name="小明",
        last_name="张",
        address_string="通州区金霞路 1 号",
    )
    assert r.status_code == 201, r.text
    [created] = r.json()
    assert list(created) == ["service_request_id", "service_notice", "account_id"]
    number = created["service_request_id"]
    assert number.startswith(f"{C}-") and number in created["service_notice"]

    got = await client.get(f"/open311/v2/requests/{number}.json?jurisdiction_id={C}")
    assert got.status_code == 200
    [item] = got.json()
    assert list(item) == FIELDS
    assert item["status"] == "open" and item["status_notes"] == "待受理"
    assert item["service_code"] == "matter-06018"
    assert item["service_name"] and not item["service_name"].isascii()  # the class's Chinese name
    assert item["description"] == "路边有废弃家具" and item["address"] == "通州区金霞路 1 号"
    assert (item["lat"], item["long"]) == (spot.lat, spot.lon)
    assert item["requested_datetime"].endswith(("+00:00", "Z")) or "+" in item["requested_datetime"]
    listed = (await client.get(f"/open311/v2/requests.json?jurisdiction_id={C}&status=open")).json()
    assert number in [x["service_request_id"] for x in listed]
    closed = (await client.get(f"/open311/v2/requests.json?jurisdiction_id={C}&status=closed")).json()
    assert number not in [x["service_request_id"] for x in closed]

    xml = await client.get(f"/open311/v2/requests/{number}.xml?jurisdiction_id={C}")
    root = ET.fromstring(xml.content)  # noqa: S314 - our own response
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    assert [c.tag for c in root[0]] == FIELDS and root[0].findtext("service_request_id") == number


async def test_bad_posts_get_open311_errors(
    client: AsyncTestClient[Litestar], api_key: str, case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][51]
    base = {
        "jurisdiction_id": C,
        "service_code": "matter-06018",
        "lat": spot.lat,
        "long": spot.lon,
        "description": "x",
    }
    r = await post(client, "json", **base, api_key="c311_wrong")
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    r = await post(client, "json", **{**base, "api_key": api_key, "lat": spot.lat + 3})
    assert r.status_code == 400 and "location" in r.json()[0]["description"]
    r = await post(
        client,
        "xml",
        **{k: v for k, v in base.items() if k not in ("lat", "long")},
        api_key=api_key,
        address_string="某路",
    )
    assert r.status_code == 400 and ET.fromstring(r.content).tag == "errors"  # noqa: S314
    r = await post(client, "json", **{**base, "api_key": api_key, "service_code": "matter-99999"})
    assert r.status_code == 400
    r = await post(client, "json", **{**base, "api_key": api_key, "jurisdiction_id": "321002"})
    assert r.status_code == 403  # a key of 320612 is no key in 321002
    missing = await client.get("/open311/v2/requests/320612-20000101-0000000.json?jurisdiction_id=320612")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404

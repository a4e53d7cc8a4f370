"""GET services and service definitions over HTTP, without any token, in the spec's formats.

The county's list is its EFFECTIVE catalogue: the province baseline (GB/T 47678.5-2026) plus what
常州市 added (a local sub-item with its own filing condition). Jurisdictions that are not live
county-level divisions of this platform are 404 in the Open311 error format.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text

from citylead.db import Database
from citylead.open311.services import in_jurisdiction
from tenants.errors import InvalidInput, NotFound
from tenants.models import Tenant
from tests.integration.open311.conftest import (
    CITY,
    COUNTY,
    LEGACY_COUNTY,
    ONBOARDING,
    SUB_ITEM_NAME,
    SUSPENDED,
)

pytestmark = pytest.mark.usefixtures("open311_standards", "open311_statuses")

Client = AsyncTestClient[Litestar]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


async def services_json(client: Client, code: str) -> list[dict[str, Any]]:
    r = await client.get("/open311/v2/services.json", params={"jurisdiction_id": code})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body: list[dict[str, Any]] = r.json()
    return body


def assert_open311_error(r: Any, status: int, fmt: str, needle: str) -> None:
    assert r.status_code == status, r.text
    if fmt == "json":
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        body = r.json()
        assert isinstance(body, list) and len(body) >= 1
        assert list(body[0]) == ["code", "description"]
        assert body[0]["code"] == status
        assert needle in body[0]["description"]
    else:
        assert r.headers["content-type"] == "text/xml; charset=utf-8"
        assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        root = ET.fromstring(r.content)  # noqa: S314 (the server's own output)
        assert root.tag == "errors"
        error = root.find("error")
        assert error is not None
        assert [c.tag for c in error] == ["code", "description"]
        assert error.findtext("code") == str(status)
        assert needle in (error.findtext("description") or "")


async def test_the_service_list_is_the_countys_effective_catalogue(client: Client) -> None:
    services = await services_json(client, COUNTY)
    assert all(list(s) == SERVICE_FIELDS for s in services)
    by_code = {s["service_code"]: s for s in services}
    # The baseline: one class code, two services (01001 供水井盖 and the matter 供水井盖异常).
    assert by_code["component-01001"]["service_name"] == "供水井盖"
    assert by_code["matter-01001"]["service_name"].endswith("异常")
    assert by_code["component-01001"]["group"] == "市政公用设施"
    assert by_code["component-01001"]["metadata"] is False
    assert by_code["component-01001"]["type"] == "realtime"
    assert by_code["component-01001"]["keywords"] == "部件, 市政公用设施, 01001"
    assert "井盖" in by_code["component-01001"]["description"]  # the class's filing condition
    # What the city added reaches the county, with the city's filing condition.
    added = by_code["matter-06012-01"]
    assert added["service_name"] == SUB_ITEM_NAME
    assert added["group"] == "市容环境类"
    assert added["description"] == "主次干道路面有明显垃圾、泥沙或油污"
    # Only minor classes and sub-items of the 2026 edition: no majors, no legacy 4-digit codes.
    codes = [s["service_code"].split("-", 1)[1] for s in services]
    assert all(len(c.split("-")[0]) == 5 for c in codes)
    assert "component-01" not in by_code
    # Components first, each kind by code.
    kinds = [s["service_code"].split("-", 1)[0] for s in services]
    assert kinds == sorted(kinds)  # "component" < "matter"
    assert codes[: kinds.count("component")] == sorted(codes[: kinds.count("component")])


async def test_xml_lists_the_same_services_in_the_spec_shape(client: Client) -> None:
    services = await services_json(client, COUNTY)
    r = await client.get("/open311/v2/services.xml", params={"jurisdiction_id": COUNTY})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<services>')
    root = ET.fromstring(r.content)  # noqa: S314 (the server's own output)
    items = root.findall("service")
    assert len(items) == len(services) == len(root)
    first = items[0]
    assert [c.tag for c in first] == SERVICE_FIELDS
    assert first.findtext("service_code") == services[0]["service_code"]
    assert first.findtext("service_name") == services[0]["service_name"]
    assert first.findtext("metadata") == "false"
    added = next(i for i in items if i.findtext("service_code") == "matter-06012-01")
    assert added.findtext("service_name") == SUB_ITEM_NAME


async def test_a_county_on_the_legacy_edition_offers_legacy_codes(client: Client) -> None:
    services = await services_json(client, LEGACY_COUNTY)
    by_code = {s["service_code"]: s for s in services}
    assert services
    assert all(len(s["service_code"].split("-", 1)[1].split("-")[0]) == 4 for s in services)
    assert by_code["component-0101"]["service_name"] == "上水井盖"
    # The legacy class maps to 01001 供水井盖: the filing condition follows the crosswalk.
    assert "上水井盖" not in by_code["component-0101"]["description"]
    assert "井盖" in by_code["component-0101"]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_the_service_definition_has_no_attributes(client: Client, fmt: str) -> None:
    r = await client.get(f"/open311/v2/services/matter-06012-01.{fmt}", params={"jurisdiction_id": COUNTY})
    assert r.status_code == 200, r.text
    if fmt == "json":
        assert r.json() == {"service_code": "matter-06012-01", "attributes": []}
        return
    root = ET.fromstring(r.content)  # noqa: S314 (the server's own output)
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"]
    assert root.findtext("service_code") == "matter-06012-01"
    attributes = root.find("attributes")
    assert attributes is not None
    assert len(attributes) == 0


@pytest.mark.parametrize(
    ("code", "fmt"),
    [("matter-99999", "json"), ("component-06012", "xml"), ("0101", "json"), ("component-0101", "xml")],
    ids=["no-such-class", "wrong-kind", "no-kind", "legacy-code-on-2026-edition"],
)
async def test_an_unknown_service_is_404(client: Client, code: str, fmt: str) -> None:
    r = await client.get(f"/open311/v2/services/{code}.{fmt}", params={"jurisdiction_id": COUNTY})
    assert_open311_error(r, 404, fmt, f"service_code {code} is not offered")


async def test_a_service_without_a_format_is_404(client: Client) -> None:
    r = await client.get("/open311/v2/services/matter-06012.csv", params={"jurisdiction_id": COUNTY})
    assert_open311_error(r, 404, "xml", "add .json or .xml")


@pytest.mark.parametrize(
    "code",
    [ONBOARDING, SUSPENDED, CITY, "320000", "110101", "440305", "999999", "32041", "abcdef"],
    ids=[
        "onboarding",
        "suspended",
        "live-city-not-a-county",
        "province",
        "unregistered-province",
        "other-unregistered-province",
        "no-such-code",
        "five-digits",
        "letters",
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_a_jurisdiction_that_is_not_a_live_county_is_404(client: Client, code: str, fmt: str) -> None:
    r = await client.get(f"/open311/v2/services.{fmt}", params={"jurisdiction_id": code})
    assert_open311_error(r, 404, fmt, f"jurisdiction_id {code} is not a live county-level division")
    r = await client.get(f"/open311/v2/services/matter-06012.{fmt}", params={"jurisdiction_id": code})
    assert_open311_error(r, 404, fmt, "jurisdiction_id")


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_no_jurisdiction_is_400(client: Client, fmt: str) -> None:
    r = await client.get(f"/open311/v2/services.{fmt}")
    assert_open311_error(r, 400, fmt, "jurisdiction_id: required")
    r = await client.get(f"/open311/v2/services.{fmt}", params={"jurisdiction_id": ""})
    assert_open311_error(r, 400, fmt, "jurisdiction_id: required")


async def test_no_token_is_needed_and_a_bad_one_is_ignored(client: Client) -> None:
    params = {"jurisdiction_id": COUNTY}
    r = await client.get("/open311/v2/services.json", params=params, headers={"Authorization": "Bearer x"})
    assert r.status_code == 200
    assert "www-authenticate" not in r.headers


async def test_requests_run_in_the_countys_own_context(app_db: Database, registry: dict[str, Tenant]) -> None:
    async with in_jurisdiction(app_db, COUNTY) as j:
        assert j.county.code == COUNTY
        assert await j.session.scalar(text("SELECT current_user")) == "citylead_app"
        assert await j.session.scalar(text("SELECT current_setting('app.path', true)")) == "/32/3204/320411/"
        visible = set(await j.session.scalars(select(Tenant.code)))
    assert visible == {"320000", CITY, COUNTY}  # itself and its ancestors; no sibling, nothing else


async def test_the_lookup_function_reveals_nothing_but_live_county_paths(app_db: Database) -> None:
    async with app_db.transaction(None) as s:
        found = {
            code: await s.scalar(text("SELECT citylead_open311_jurisdiction(:c)"), {"c": code})
            for code in (COUNTY, CITY, ONBOARDING, SUSPENDED, "320000", "' OR true --")
        }
        # Without a context the tenants table stays hidden from the application role.
        assert await s.scalar(text("SELECT count(*) FROM tenants")) == 0
    assert found == {
        COUNTY: "/32/3204/320411/",
        CITY: None,
        ONBOARDING: None,
        SUSPENDED: None,
        "320000": None,
        "' OR true --": None,
    }


async def test_in_jurisdiction_raises_the_platform_errors(app_db: Database) -> None:
    with pytest.raises(InvalidInput):
        async with in_jurisdiction(app_db, None):
            pass
    with pytest.raises(NotFound):
        async with in_jurisdiction(app_db, ONBOARDING):
            pass

"""The dashboard mounted in a small Litestar app: Dash's routes answer JSON under /dashboard/,
assets are local, and nothing is served without a valid token (the real validator, embedded keys).
The real reader runs on PostgreSQL as the application role: a city admin sees only their city."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import TestClient

from citylead.coverage import Coverage, TenantCoverage, summarize
from citylead.db import Database
from citylead.identity.principal import Principal, Role
from dashboard import DatabaseReader, create_dashboard, dashboard_mount
from tenants.errors import NotFound
from tenants.models import TenantLevel, TenantStatus
from tests.support import Mint

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CANNED = [
    TenantCoverage("990100", "甲市", TenantLevel.PREFECTURE_CITY, TenantStatus.LIVE, None, Decimal(300),
                   "990100", "甲市"),
    TenantCoverage("990101", "东区", TenantLevel.MUNICIPAL_DISTRICT, TenantStatus.LIVE,
                   datetime(2026, 10, 2, tzinfo=UTC), Decimal(100), "990100", "甲市"),
    TenantCoverage("990121", "北县", TenantLevel.COUNTY, TenantStatus.ONBOARDING, None, Decimal(200),
                   "990100", "甲市"),
]  # fmt: skip
SQUARE = {"type": "Polygon", "coordinates": [[[118, 32], [119, 32], [119, 33], [118, 33], [118, 32]]]}


class FakeReader:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    async def coverage(self, principal: Principal, *, now: datetime, city: str | None) -> Coverage:
        self.calls.append((principal.tenant_path, city))
        return summarize("990000", "测试省", CANNED, now=now, months=3)

    async def boundaries(self, principal: Principal, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {"990101": SQUARE} if "990101" in codes else {}


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader()


@pytest.fixture
def http(app: Litestar, reader: FakeReader) -> Iterator[TestClient[Litestar]]:
    dash_app = create_dashboard(reader, clock=lambda: NOW)
    small = Litestar(
        route_handlers=[dashboard_mount(dash_app)],
        state=State({"token_validator": app.state.token_validator}),
    )
    with TestClient(app=small) as c:
        yield c


@pytest.fixture
def auth(mint: Mint) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint('province_supervisor', '/32')}"}


def test_page_is_served_with_local_assets(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    page = http.get("/dashboard/", headers=auth)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    found = re.search(r'<script id="_dash-config"[^>]*>(.*?)</script>', page.text, re.S)
    assert found is not None
    config = json.loads(found[1])
    assert config["requests_pathname_prefix"] == "/dashboard/"
    assert config["serve_locally"] is True
    assert config["disable_version_check"] is True  # offline: no version lookup from the browser
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts, page.text
    assert all(s.startswith("/dashboard/_dash-component-suites/") for s in scripts), scripts
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page.text)  # nothing from another host
    assert "unpkg" not in page.text
    assert "cdn" not in page.text.lower()
    asset = http.get(scripts[0], headers=auth)
    assert asset.status_code == 200
    assert "javascript" in asset.headers["content-type"]


def test_bare_mount_path_serves_the_page(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    page = http.get("/dashboard", headers=auth, follow_redirects=True)
    assert page.status_code == 200
    assert "_dash-config" in page.text


def test_layout_and_dependencies_are_json(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    layout = http.get("/dashboard/_dash-layout", headers=auth)
    assert layout.status_code == 200
    assert layout.headers["content-type"].startswith("application/json")
    assert "coverage-map" in json.dumps(layout.json())
    (graph,) = find(layout.json(), "coverage-map")
    topojson = graph["props"]["config"]["topojsonURL"]
    assert topojson == "/dashboard/assets/topojson/"  # plotly.js's base map, served here
    base = http.get(topojson + "world_110m.json", headers=auth)
    assert base.status_code == 200
    assert base.json()["type"] == "Topology"
    deps = http.get("/dashboard/_dash-dependencies", headers=auth)
    assert deps.headers["content-type"].startswith("application/json")
    (dep,) = deps.json()
    assert dep["inputs"] == [{"id": "coverage-city", "property": "value"}]


def find(node: Any, id_: str) -> list[dict[str, Any]]:
    """Components with ``id_`` anywhere in a layout's JSON."""
    if isinstance(node, list):
        return [hit for child in node for hit in find(child, id_)]
    if not isinstance(node, dict):
        return []
    props = node.get("props", {})
    here = [node] if props.get("id") == id_ else []
    return here + find(props.get("children"), id_)


def callback_body(http: TestClient[Litestar], auth: dict[str, str], city: str | None) -> dict[str, Any]:
    (dep,) = http.get("/dashboard/_dash-dependencies", headers=auth).json()
    outputs = [
        dict(zip(("id", "property"), o.split("."), strict=True))
        for o in dep["output"].strip(".").split("...")
    ]
    return {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{"id": "coverage-city", "property": "value", "value": city}],
        "changedPropIds": [],
        "state": [],
    }


def test_callback_reads_as_the_token_s_principal(
    http: TestClient[Litestar], auth: dict[str, str], reader: FakeReader
) -> None:
    res = http.post("/dashboard/_dash-update-component", json=callback_body(http, auth, None), headers=auth)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/json")
    out = res.json()["response"]
    assert out["coverage-title"]["children"] == "覆盖情况 · 测试省"
    assert out["coverage-city"]["options"] == [{"label": "甲市", "value": "990100"}]
    traces = out["coverage-map"]["figure"]["data"]
    assert [(t["name"], t["locations"]) for t in traces] == [("已上线", ["990101"])]
    levels = out["coverage-levels"]["figure"]["data"][0]
    assert (levels["x"], levels["y"]) == (["地级市", "市辖区", "县"], [100.0, 100.0, 0.0])
    assert out["coverage-velocity"]["figure"]["data"][0]["y"] == [0, 1, 1]
    head, body = out["coverage-cities"]["children"]
    labels = [c["props"]["children"] for c in head["props"]["children"]["props"]["children"]]
    assert labels[:3] == ["城市", "县级区划", "已上线"]
    cells = [c["props"]["children"] for c in body["props"]["children"][0]["props"]["children"]]
    assert cells == ["甲市", 2, 1, 1, 0, 0, 50.0, 0.0, 0, 0]  # no grids yet: 0 of 300 km²
    assert reader.calls == [("/32/", None)]


def test_city_choice_reaches_the_reader(http: TestClient[Litestar], mint: Mint, reader: FakeReader) -> None:
    auth = {"Cookie": f"citylead_token={mint('city_admin', '/32/3204')}"}
    body = callback_body(http, auth, "320400")
    assert http.post("/dashboard/_dash-update-component", json=body, headers=auth).status_code == 200
    assert reader.calls == [("/32/3204/", "320400")]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Cookie": "citylead_token=garbage"},
        {"Authorization": "Basic x"},
    ],
)
def test_no_valid_token_no_dashboard(
    http: TestClient[Litestar], headers: dict[str, str], reader: FakeReader
) -> None:
    for path in ("/dashboard/", "/dashboard/_dash-layout", "/dashboard/_dash-dependencies"):
        res = http.get(path, headers=headers)
        assert res.status_code == 401, path
        assert "_dash" not in res.text
    res = http.post("/dashboard/_dash-update-component", json={}, headers=headers)
    assert res.status_code == 401
    assert reader.calls == []


def test_token_signed_by_another_key_is_refused(http: TestClient[Litestar], mint: Mint) -> None:
    from citylead.identity.keys import SigningKeys

    forged = mint("province_supervisor", "/32", keys=SigningKeys.generate())
    assert (
        http.get("/dashboard/_dash-layout", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )


def principal(role: Role, path: str) -> Principal:
    return Principal("s", "u", frozenset({role}), path)


async def test_database_reader_scopes_to_the_principal(app_db: Database) -> None:
    reader = DatabaseReader(app_db, months=2)
    province = await reader.coverage(principal(Role.PROVINCE_SUPERVISOR, "/32/"), now=NOW, city=None)
    city = await reader.coverage(principal(Role.CITY_ADMIN, "/32/3204/"), now=NOW, city=None)
    assert province.code == "320000"
    assert {d.city_code for d in province.divisions} > {"320400", "320100"}
    assert city.code == "320400"
    assert city.divisions
    assert {d.city_code for d in city.divisions} == {"320400"}
    assert len(city.velocity) == 2
    # the province may narrow to a city; the city admin may not look at a sibling city
    narrowed = await reader.coverage(principal(Role.PROVINCE_SUPERVISOR, "/32/"), now=NOW, city="320400")
    assert [d.code for d in narrowed.divisions] == [d.code for d in city.divisions]
    with pytest.raises(NotFound):
        await reader.coverage(principal(Role.CITY_ADMIN, "/32/3204/"), now=NOW, city="320100")


async def test_database_reader_boundaries_stay_in_scope(app_db: Database) -> None:
    reader = DatabaseReader(app_db)
    changzhou = principal(Role.CITY_ADMIN, "/32/3204/")
    own = await reader.boundaries(changzhou, ["320411", "320102", "340102"])
    assert list(own) == ["320411"]  # Nanjing's and Hefei's districts are not visible
    assert own["320411"]["type"] in {"Polygon", "MultiPolygon"}
    county = principal(Role.COUNTY_ADMIN, "/32/3204/320411/")
    assert list(await reader.boundaries(county, ["320411", "320412"])) == ["320411"]
    assert await reader.boundaries(changzhou, []) == {}

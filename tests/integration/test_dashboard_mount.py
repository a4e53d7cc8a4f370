"""The dashboard mounted in a small Litestar app: Dash's routes answer JSON under /dashboard/,
assets are local, and nothing is served without a valid token (the real validator, embedded keys).
The real reader runs on PostgreSQL as the application role: a city admin sees only their city."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from citylead.assessment.results import Result
from citylead.cases.stats import ClassVolume, CountyLights, GridVolume, OverdueCase
from citylead.coverage import Coverage, TenantCoverage, summarize
from citylead.db import Database
from citylead.identity.principal import Principal, Role
from dashboard import DatabaseReader, create_dashboard, dashboard_mount
from dashboard.boundaries import CACHE, simplify
from dashboard.data import CaseClocks, CaseVolume, Place
from dashboard.pages.coverage import divisions_under
from tenants.errors import NotFound
from tenants.models import Tenant, TenantLevel, TenantStatus
from tests.support import Mint
from tests.unit.test_dashboard_performance import PERFECT, WORKED, result

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
SHAPED = {"990101", "320411"}  # the divisions the fake registry has a boundary for


PLACES = [
    Place("320000", "测试省", TenantLevel.PROVINCE, None),
    Place("320400", "甲市", TenantLevel.PREFECTURE_CITY, "320000"),
    Place("320411", "东区", TenantLevel.MUNICIPAL_DISTRICT, "320400"),
]
RESULTS = [result("320411", WORKED), result("320412", PERFECT)]
VOLUMES = [ClassVolume("matter", "06012", "道路不洁", "06", "市容环境", 5)]
DUE = datetime(2026, 10, 31, 8, tzinfo=UTC)
OVERDUE = [
    OverdueCase("320411", "东区", "320411-20261030-0001", "matter", "06012", "道路不洁", "中山路", None,
                "dispose", "环卫所", DUE, 16.0)
]  # fmt: skip


class FakeReader:
    """Canned answers; records who asked for what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    async def coverage(self, principal: Principal, *, now: datetime, city: str | None) -> Coverage:
        self.calls.append((principal.tenant_path, city))
        return summarize("990000", "测试省", CANNED, now=now, months=3)

    async def boundary_stamps(self, principal: Principal, codes: Sequence[str]) -> dict[str, str]:
        return {code: "1@2026-10-01T00:00:00+00:00" for code in codes if code in SHAPED}

    async def boundaries(self, principal: Principal, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.calls.append((principal.tenant_path, f"boundaries {','.join(codes)}"))
        return {code: SQUARE for code in codes if code in SHAPED}

    async def places(self, principal: Principal) -> list[Place]:
        return PLACES

    async def periods(self, principal: Principal) -> list[str]:
        return ["2026-11", "2026-10", "2026-09"]

    async def assessments(
        self, principal: Principal, *, period: str, tenant: str | None, subject_type: str | None
    ) -> list[Result]:
        self.calls.append((principal.tenant_path, f"{period}/{tenant}/{subject_type}"))
        return RESULTS

    async def trend(
        self,
        principal: Principal,
        *,
        periods: Sequence[str],
        tenant: str | None,
        subject_types: Sequence[str],
    ) -> dict[str, list[Result]]:
        self.calls.append((principal.tenant_path, f"trend {periods[0]}..{periods[-1]} {list(subject_types)}"))
        return {periods[-1]: RESULTS}

    async def case_volume(
        self, principal: Principal, *, since: date, until: date, tenant: str | None
    ) -> CaseVolume:
        self.calls.append((principal.tenant_path, f"volume {since}..{until} {tenant}"))
        return CaseVolume(VOLUMES, [GridVolume("320411", "东区", "320411001001", 5)])

    async def case_clocks(self, principal: Principal, *, now: datetime, tenant: str | None) -> CaseClocks:
        self.calls.append((principal.tenant_path, f"clocks {now:%Y-%m-%d} {tenant}"))
        return CaseClocks([CountyLights("320411", "东区", 2, 1, 1, 0)], OVERDUE)


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


def test_every_page_path_serves_the_app(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    for path in ("/dashboard/performance", "/dashboard/cases"):
        page = http.get(path, headers=auth)
        assert page.status_code == 200, path
        assert "_dash-config" in page.text


def test_layout_and_dependencies_are_json(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    layout = http.get("/dashboard/_dash-layout", headers=auth)
    assert layout.status_code == 200
    assert layout.headers["content-type"].startswith("application/json")
    shell = layout.json()
    assert find(shell, "app-location") and find(shell, "app-page") and find(shell, "app-nav")
    (signout,) = find(shell, "app-signout")
    assert (signout["props"]["href"], signout["props"]["children"]) == ("/signout", "退出登录")
    deps = http.get("/dashboard/_dash-dependencies", headers=auth)
    assert deps.headers["content-type"].startswith("application/json")
    inputs = {i["id"] for dep in deps.json() for i in dep["inputs"]}
    assert {"app-location", "coverage-city", "performance-period", "cases-period"} <= inputs
    base = http.get("/dashboard/assets/topojson/world_110m.json", headers=auth)
    assert base.status_code == 200
    assert base.json()["type"] == "Topology"


def find(node: Any, id_: str) -> list[dict[str, Any]]:
    """Components with ``id_`` anywhere in a layout's JSON."""
    if isinstance(node, list):
        return [hit for child in node for hit in find(child, id_)]
    if not isinstance(node, dict):
        return []
    props = node.get("props", {})
    here = [node] if props.get("id") == id_ else []
    return here + find(props.get("children"), id_)


def wired(dep_input: dict[str, str], value: Any) -> Any:
    """A wildcard input (``ALL``) is sent as the list of the matching components' props."""
    return value if dep_input["id"].startswith("{") else {**dep_input, "value": value}


def call(
    http: TestClient[Litestar],
    auth: dict[str, str],
    output: str,
    inputs: list[Any],
    state: list[Any] | None = None,
    changed: str | None = None,
) -> dict[str, Any]:
    """Run the callback that sets ``output`` (``id.prop``) as the browser would; its response."""
    deps = http.get("/dashboard/_dash-dependencies", headers=auth).json()
    (dep,) = [d for d in deps if output in d["output"]]
    many = dep["output"].startswith("..")
    outputs = [
        dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
        for o in dep["output"].strip(".").split("...")
    ]
    body = {
        "output": dep["output"],
        "outputs": outputs if many else outputs[0],
        "inputs": [wired(i, v) for i, v in zip(dep["inputs"], inputs, strict=True)],
        "state": [{**i, "value": v} for i, v in zip(dep["state"], state or [], strict=True)],
        "changedPropIds": [changed] if changed else [],
    }
    res = http.post("/dashboard/_dash-update-component", json=body, headers=auth)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/json")
    return dict(res.json()["response"])


def test_navigation_renders_each_page(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    pages = {
        "/dashboard/": "coverage-map",
        "/dashboard/performance": "performance-rank",
        "/dashboard/cases": "cases-lights",
    }
    for path, graph in pages.items():
        out = call(http, auth, "app-page.children", [path])
        assert find(out["app-page"]["children"], graph), path
        links = out["app-nav"]["children"]
        assert [(a["props"]["children"], a["props"]["href"]) for a in links] == [
            ("覆盖情况", "/dashboard/"),
            ("绩效考核", "/dashboard/performance"),
            ("案件情况", "/dashboard/cases"),
        ]
        active = [a["props"]["href"] for a in links if a["props"]["className"] == "active"]
        assert active == [path.rstrip("/") if path != "/dashboard/" else path]
    page = call(http, auth, "app-page.children", ["/dashboard/"])["app-page"]["children"]
    (graph,) = find(page, "coverage-map")
    assert graph["props"]["config"]["topojsonURL"] == "/dashboard/assets/topojson/"  # local base map
    unknown = call(http, auth, "app-page.children", ["/dashboard/nothing"])
    assert find(unknown["app-page"]["children"], "coverage-map")


def test_header_shows_who_is_signed_in(http: TestClient[Litestar], mint: Mint) -> None:
    auth = {"Authorization": f"Bearer {mint('province_supervisor', '/32', name='王督查')}"}
    out = call(http, auth, "app-user.children", ["app-user"])
    assert out["app-user"]["children"] == "王督查（测试省 · 省级督查员）"


def test_coverage_callback_reads_as_the_token_s_principal(
    http: TestClient[Litestar], auth: dict[str, str], reader: FakeReader
) -> None:
    out = call(http, auth, "coverage-map.figure", [None])
    assert out["coverage-title"]["children"] == "覆盖情况 · 测试省"
    assert out["coverage-city"]["options"] == [{"label": "甲市", "value": "990100"}]
    traces = out["coverage-map"]["figure"]["data"]
    assert [(t["name"], t["locations"]) for t in traces] == [("已上线", ["990101"])]
    assert traces[0]["geojson"].startswith("/dashboard/boundaries/990000.geojson?v=")  # by URL, not inline
    levels = out["coverage-levels"]["figure"]["data"][0]
    assert (levels["x"], levels["y"]) == (["地级市", "市辖区", "县"], [100.0, 100.0, 0.0])
    assert out["coverage-velocity"]["figure"]["data"][0]["y"] == [0, 1, 1]
    head, body = out["coverage-cities"]["children"]
    labels = [c["props"]["children"] for c in head["props"]["children"]["props"]["children"]]
    assert labels[:3] == ["城市", "县级区划", "已上线"]
    cells = [c["props"]["children"] for c in body["props"]["children"][0]["props"]["children"]]
    assert cells == ["甲市", 2, 1, 1, 0, 0, 50.0, 0.0, 0, 0]  # no grids yet: 0 of 300 km²
    assert reader.calls == [("/32/", None)]


def test_the_map_s_boundaries_are_served_in_scope_and_kept_by_the_browser(
    http: TestClient[Litestar], auth: dict[str, str], mint: Mint, reader: FakeReader
) -> None:
    """The URL the map names answers the simplified boundaries of the divisions under the tenant
    (320411 under the province 320000), cacheable; a tenant outside the principal's places is 404,
    and without a session 401."""
    got = http.get("/dashboard/boundaries/320000.geojson?v=abc", headers=auth)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/geo+json")
    assert "immutable" in got.headers["cache-control"]
    body = got.json()
    assert [(f["id"], f["properties"]["name"], f["geometry"]) for f in body["features"]] == [
        ("320411", "东区", SQUARE)
    ]
    assert reader.calls == [("/32/", "boundaries 320411")]
    assert http.get("/dashboard/boundaries/340000.geojson", headers=auth).status_code == 404
    assert reader.calls == [("/32/", "boundaries 320411")]  # nothing read for it
    assert http.get("/dashboard/boundaries/320000.geojson").status_code == 401


def test_city_choice_reaches_the_reader(http: TestClient[Litestar], mint: Mint, reader: FakeReader) -> None:
    auth = {"Cookie": f"citylead_token={mint('city_admin', '/32/3204')}"}
    call(http, auth, "coverage-map.figure", ["320400"])
    assert reader.calls == [("/32/3204/", "320400")]


def test_coverage_export_is_the_city_table(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    out = call(
        http, auth, "coverage-export-download.data", [1, 0], [None], changed="coverage-export-csv.n_clicks"
    )
    sent = out["coverage-export-download"]["data"]
    assert sent["filename"] == "覆盖情况-990000.csv"
    lines = base64.b64decode(sent["content"]).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("城市,县级区划,已上线")
    assert lines[1] == "甲市,2,1,1,0,0,50.0,0.0,0,0"


def test_performance_scope_periods_and_levels(http: TestClient[Litestar], auth: dict[str, str]) -> None:
    out = call(http, auth, "performance-title.children", [None], [None])
    assert out["performance-title"]["children"] == "绩效考核 · 测试省"
    assert out["performance-period"]["value"] == "2026-10"  # NOW is in November: the last complete month
    assert [o["value"] for o in out["performance-period"]["options"]][:4] == [
        "2026-11",
        "2026-10",
        "2026-09",
        "2026Q4",
    ]
    assert out["performance-level"]["value"] == "city"  # a province ranks its cities first
    assert out["performance-drill"]["options"] == [{"label": "甲市", "value": "320400"}]
    crumbs = out["performance-breadcrumb"]["children"]
    assert [c["props"]["children"] for c in crumbs] == ["测试省"]
    down = call(http, auth, "performance-title.children", ["320400"], ["2026-09"])
    assert down["performance-title"]["children"] == "绩效考核 · 甲市"
    assert down["performance-period"]["value"] == "2026-09"  # kept
    assert down["performance-level"]["value"] == "county"
    crumbs = [c for c in down["performance-breadcrumb"]["children"] if isinstance(c, dict)]
    assert [c["props"]["id"]["code"] for c in crumbs] == ["320000", "320400"]


def test_performance_ranking_table_and_detail(
    http: TestClient[Litestar], auth: dict[str, str], reader: FakeReader
) -> None:
    places = {"320411": {"name": "东区", "level": "municipal_district", "parent": "320400"}}
    out = call(http, auth, "performance-rank.figure", ["2026-10", "county", "composite"], ["320400", places])
    (bar,) = out["performance-rank"]["figure"]["data"]
    assert bar["y"] == ["320412", "东区"]  # 100 (A) before 87.6 (B); no name known for 320412
    assert bar["x"] == [100.0, 87.6]
    assert reader.calls == [("/32/", "2026-10/320400/county")]
    rows = out["performance-rows"]["data"]
    assert [r["grade"] for r in rows] == ["A", "B"]
    # only the rows' keys are sent with the ranking: the explanation is read when a row is clicked
    assert rows[1] == {
        "period": "2026-10",
        "type": "county",
        "code": "320411",
        "tenant": "320411",
        "grade": "B",
    }
    _head, body = out["performance-table"]["children"]
    first = body["props"]["children"][0]
    assert first["props"]["id"] == {"type": "performance-row", "index": 0}
    row = {"id": {"type": "performance-row", "index": 1}, "property": "n_clicks", "value": 1}
    changed = '{"index":1,"type":"performance-row"}.n_clicks'
    detail = call(http, auth, "performance-detail.children", [[row]], [rows], changed=changed)
    shown = json.dumps(detail["performance-detail"]["children"], ensure_ascii=False)
    assert "综合得分 87.6 · 等级 B" in shown
    assert "45（disposed）" in shown and "50（due_for_disposal）" in shown
    assert "340000:1" in shown  # the rules version
    assert reader.calls[-1] == ("/32/", "2026-10/320411/county")  # the clicked subject's own rows


def test_performance_drill_down_by_click_dropdown_and_breadcrumb(
    http: TestClient[Litestar], auth: dict[str, str]
) -> None:
    places = {"320000": {}, "320400": {}, "320411": {}}
    crumb = {"id": {"type": "performance-crumb", "code": "320000"}, "property": "n_clicks", "value": 0}
    click = {"points": [{"customdata": ["county", "320411"]}]}
    out = call(
        http,
        auth,
        "performance-scope.data",
        [click, None, [crumb]],
        [places],
        changed="performance-rank.clickData",
    )
    assert out["performance-scope"]["data"] == "320411"
    out = call(
        http,
        auth,
        "performance-scope.data",
        [None, "320400", [crumb]],
        [places],
        changed="performance-drill.value",
    )
    assert (out["performance-scope"]["data"], out["performance-drill"]["value"]) == ("320400", None)
    pressed = {**crumb, "value": 1}
    changed = '{"code":"320000","type":"performance-crumb"}.n_clicks'
    out = call(http, auth, "performance-scope.data", [None, None, [pressed]], [places], changed=changed)
    assert out["performance-scope"]["data"] == "320000"
    department = {"points": [{"customdata": ["department", "320411:CGZF"]}]}
    deps = http.get("/dashboard/_dash-dependencies", headers=auth).json()
    (dep,) = [d for d in deps if "performance-scope.data" in d["output"]]
    body = {
        "output": dep["output"],
        "outputs": [
            {"id": "performance-scope", "property": "data"},
            {"id": "performance-drill", "property": "value"},
        ],
        "inputs": [
            {**i, "value": v} for i, v in zip(dep["inputs"], [department, None, [crumb]], strict=True)
        ],
        "state": [{**dep["state"][0], "value": places}],
        "changedPropIds": ["performance-rank.clickData"],
    }
    res = http.post("/dashboard/_dash-update-component", json=body, headers=auth)
    assert res.status_code == 204  # a department is as deep as it goes: nothing changes


def test_performance_trend_and_export(
    http: TestClient[Litestar], auth: dict[str, str], reader: FakeReader
) -> None:
    places = {"320000": {"name": "测试省", "level": "province", "parent": None}}
    out = call(http, auth, "performance-trend.figure", ["2026-10", "composite"], [None, places])
    lines = out["performance-trend"]["figure"]["data"]
    assert [line["name"] for line in lines] == ["320412", "320411"]
    assert lines[0]["y"][-1] == 100.0 and len(lines[0]["x"]) == 12
    assert reader.calls == [("/32/", "trend 2025-11..2026-10 ['province', 'city']")]
    sent = call(
        http, auth, "performance-export-download.data", [0, 1], ["2026-10", "county", None],
        changed="performance-export-xlsx.n_clicks",
    )["performance-export-download"]["data"]  # fmt: skip
    assert sent["filename"] == "绩效考核-320000-2026-10.xlsx"
    book = load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    sheet = book.worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 3  # a header and the two counties
    assert any(v in (87.6, "87.6", 87.60) for v in values[2] + values[1])


def test_cases_page_shows_the_largest_classes_and_exports_all(
    http: TestClient[Litestar], auth: dict[str, str], reader: FakeReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = [ClassVolume("matter", f"06{i:03}", f"小类{i}", "06", "市容环境", 100 - i) for i in range(33)]

    async def volume(principal: Principal, *, since: date, until: date, tenant: str | None) -> CaseVolume:
        return CaseVolume(many, [])

    monkeypatch.setattr(reader, "case_volume", volume)
    out = call(http, auth, "cases-classes.figure", ["2026-10", None])
    _head, body, foot = out["cases-class-table"]["children"]
    shown = [r["props"]["children"] for r in body["props"]["children"]]
    assert [r[4]["props"]["children"] for r in shown] == list(range(100, 70, -1))  # the 30 largest
    line = foot["props"]["children"]["props"]["children"]
    assert line["props"]["children"] == "另有 3 个小类，共 207 件，见导出"  # 70 + 69 + 68
    assert out["cases-message"]["children"] == "2026年10月共 2772 件（按上报日，北京时间）"  # 100 + … + 68
    sent = call(
        http, auth, "cases-class-export-download.data", [1, 0], ["2026-10", None],
        changed="cases-class-export-csv.n_clicks",
    )["cases-class-export-download"]["data"]  # fmt: skip
    lines = base64.b64decode(sent["content"]).decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 33  # the export keeps every class
    assert lines[-1] == "事件,市容环境,06032,小类32,68,2.5"  # 68 of 2,772


def test_cases_page_reads_volume_lights_and_overdue(
    http: TestClient[Litestar], auth: dict[str, str], reader: FakeReader
) -> None:
    out = call(http, auth, "cases-title.children", ["cases-tenant"])
    assert out["cases-title"]["children"] == "案件情况 · 测试省"
    assert out["cases-period"]["value"] == "2026-11"
    assert out["cases-tenant"]["options"] == [
        {"label": "甲市（地级市）", "value": "320400"},
        {"label": "东区（市辖区）", "value": "320411"},
    ]
    volume = call(http, auth, "cases-classes.figure", ["2026-10", "320400"])
    (matter,) = volume["cases-classes"]["figure"]["data"]
    assert (matter["y"], matter["x"]) == (["事件·市容环境"], [5])
    assert volume["cases-grids"]["figure"]["data"][0]["x"] == ["320411001001"]
    assert volume["cases-message"]["children"] == "2026年10月共 5 件（按上报日，北京时间）"
    clocks = call(http, auth, "cases-lights.figure", ["320400", 0])
    assert [t["y"] for t in clocks["cases-lights"]["figure"]["data"]] == [[2], [1], [1], [0]]
    _head, body = clocks["cases-overdue"]["children"]
    cells = [c["props"]["children"] for c in body["props"]["children"][0]["props"]["children"]]
    assert cells == [
        "320411-20261030-0001",
        "东区",
        "事件",
        "道路不洁",
        "中山路",
        "处置",
        "环卫所",
        "2026-10-31 16:00",
        16.0,
    ]
    assert reader.calls == [
        ("/32/", "volume 2026-10-01..2026-11-01 320400"),
        ("/32/", "clocks 2026-11-01 320400"),
    ]
    sent = call(
        http, auth, "cases-overdue-export-download.data", [1, 0], ["320400"],
        changed="cases-overdue-export-csv.n_clicks",
    )["cases-overdue-export-download"]["data"]  # fmt: skip
    lines = base64.b64decode(sent["content"]).decode("utf-8-sig").splitlines()
    assert lines[0] == "案卷号,区县,类型,小类,位置,环节,责任单位,期限（北京时间）,超期小时"
    assert lines[1] == "320411-20261030-0001,东区,事件,道路不洁,中山路,处置,环卫所,2026-10-31 16:00,16.0"


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


async def test_database_reader_boundaries_stay_in_scope(
    app_db: Database, registry: dict[str, Tenant]
) -> None:
    reader = DatabaseReader(app_db)
    changzhou = principal(Role.CITY_ADMIN, "/32/3204/")
    own = await reader.boundaries(changzhou, ["320411", "320102", "340102"])
    assert list(own) == ["320411"]  # Nanjing's and Hefei's districts are not visible
    assert own["320411"]["type"] in {"Polygon", "MultiPolygon"}
    county = principal(Role.COUNTY_ADMIN, "/32/3204/320411/")
    assert list(await reader.boundaries(county, ["320411", "320412"])) == ["320411"]
    assert await reader.boundaries(changzhou, []) == {}


async def test_database_reader_boundary_stamps_stay_in_scope_and_follow_the_row(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    reader = DatabaseReader(app_db)
    changzhou = principal(Role.CITY_ADMIN, "/32/3204/")
    stamps = await reader.boundary_stamps(changzhou, ["320411", "320102", "340102"])
    assert list(stamps) == ["320411"]  # Nanjing's and Hefei's districts are not visible
    async with owner_db.transaction(None) as s:
        version, at = (
            await s.execute(select(Tenant.version, Tenant.updated_at).where(Tenant.code == "320411"))
        ).one()
    assert stamps["320411"] == f"{version}@{at.isoformat()}"
    assert await reader.boundary_stamps(changzhou, []) == {}


def test_divisions_under_walks_the_subtree() -> None:
    places = [
        Place("320000", "省", TenantLevel.PROVINCE, None),
        Place("320400", "常州市", TenantLevel.PREFECTURE_CITY, "320000"),
        Place("320411", "新北区", TenantLevel.MUNICIPAL_DISTRICT, "320400"),
        Place("320481", "溧阳市", TenantLevel.COUNTY_CITY, "320400"),
        Place("320100", "南京市", TenantLevel.PREFECTURE_CITY, "320000"),
        Place("320102", "玄武区", TenantLevel.MUNICIPAL_DISTRICT, "320100"),
    ]
    assert divisions_under(places, "320400") == [("320411", "新北区"), ("320481", "溧阳市")]
    assert [c for c, _ in divisions_under(places, "320000") or []] == ["320102", "320411", "320481"]
    assert divisions_under(places, "320411") == [("320411", "新北区")]
    assert divisions_under(places, "340000") is None


async def test_database_reader_boundaries_are_simplified_once_per_row_version(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    async with owner_db.transaction(None) as s:
        version, at, raw = (
            await s.execute(
                select(Tenant.version, Tenant.updated_at, Tenant.boundary).where(Tenant.code == "320411")
            )
        ).one()
    reader = DatabaseReader(app_db)
    changzhou = principal(Role.CITY_ADMIN, "/32/3204/")
    CACHE.put("320411", (version - 1, at), {"type": "Point", "coordinates": [0, 0]})  # a stale entry
    first = (await reader.boundaries(changzhou, ["320411"]))["320411"]
    assert first == simplify(raw)  # the stale entry was not served: read and simplified again
    assert (await reader.boundaries(changzhou, ["320411"]))["320411"] is first  # then from the cache
    marker = {"type": "Point", "coordinates": [1, 1]}
    CACHE._entries["320411"] = ((version, at), marker)  # what the cache holds is what is served
    try:
        assert (await reader.boundaries(changzhou, ["320411"]))["320411"] is marker
        assert await reader.boundaries(changzhou, ["320102"]) == {}  # the cache never widens the scope
    finally:
        CACHE._entries.pop("320411")

"""Coverage (覆盖情况) against real PostgreSQL: hand-computed figures for 淮北市 340600 and 铜陵市
340700, the scope rule through ``GET /api/v1/coverage``, and isolation as the app role.

Only these two cities and their divisions are arranged here; other modules change other tenants in
the same database, so every assertion filters to these cities.

The arrangement (registry areas, km²: 杜集 232.24, 相山 138.5, 烈山 383.45, 濉溪 1990.82, 淮北
2745.02; 铜官 142.78, 义安 793.13, 郊区 578.27, 枞阳 1473.16):

Cases are placed around the start of today in Beijing (``TODAY``): the 30-day window is whole
Beijing days, today the last.

| division | status | live since (Beijing) | grids (km²) | active units | cases in 30 days |
|---|---|---|---|---|---|
| 340602 杜集区 | live | 2025-11-10 09:00 | 2 (23.224) | 3 (+1 inactive) | 4, 2 supervisors |
| 340603 相山区 | live | 2026-01-05 10:00 | 1 (13.85) | 1 | 1 (hotline) |
| 340604 烈山区 | live | 2026-03-01 00:30 | 0 | 0 | 0 |
| 340621 濉溪县 | onboarding | — | 0 | 0 | 0 |
| 340705 铜官区 | live | 2026-02-15 10:00 | 0 | 0 | 0 |
| 340706 义安区 | suspended | 2025-12-01 10:00 | 0 | 0 | 0 |
| 340711 郊区, 340722 枞阳县 | registered | — | 0 | 0 | 0 |

淮北市 itself is live with 2 city departments; 铜陵市 is onboarding.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, text, update

from citylead.cases.models import Case
from citylead.coverage import Coverage, get_coverage, list_coverage
from citylead.db import Database
from citylead.geography.models import Community, Grid, Street
from citylead.units.models import Unit
from tenants.context import TenantContext
from tenants.errors import InvalidInput, NotFound
from tenants.models import Tenant, TenantStatus
from tests.support import Mint, bearer, filed_case

BJ = timezone(timedelta(hours=8))
HUAIBEI, TONGLING = "340600", "340700"
HB_DIVISIONS = ["340602", "340603", "340604", "340621"]
TL_DIVISIONS = ["340705", "340706", "340711", "340722"]
OURS = {HUAIBEI, TONGLING, *HB_DIVISIONS, *TL_DIVISIONS}
STATUS: dict[str, tuple[TenantStatus, datetime | None]] = {
    HUAIBEI: (TenantStatus.LIVE, datetime(2025, 11, 1, 9, tzinfo=BJ)),
    "340602": (TenantStatus.LIVE, datetime(2025, 11, 10, 9, tzinfo=BJ)),
    "340603": (TenantStatus.LIVE, datetime(2026, 1, 5, 10, tzinfo=BJ)),
    "340604": (TenantStatus.LIVE, datetime(2026, 3, 1, 0, 30, tzinfo=BJ)),  # 2026-02-28 16:30 UTC
    "340621": (TenantStatus.ONBOARDING, None),
    TONGLING: (TenantStatus.ONBOARDING, None),
    "340705": (TenantStatus.LIVE, datetime(2026, 2, 15, 10, tzinfo=BJ)),
    "340706": (TenantStatus.SUSPENDED, datetime(2025, 12, 1, 10, tzinfo=BJ)),
    "340711": (TenantStatus.REGISTERED, None),
    "340722": (TenantStatus.REGISTERED, None),
}
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = datetime.combine(NOW.astimezone(BJ).date(), time(0), tzinfo=BJ)  # the window's last day begins
VELOCITY_NOW = datetime(2026, 4, 15, 12, tzinfo=BJ)

Client = AsyncTestClient[Litestar]


def _case(tenant: Tenant, n: int, at: datetime, source: str, by: str) -> Case:
    return filed_case(tenant, f"cov-{n}", at, source, by)


@pytest.fixture(scope="module")
async def arranged(owner_db: Database, registry: dict[str, Tenant]) -> dict[str, Tenant]:
    """Statuses, grids, units and cases of the two cities (see the module docstring)."""
    t = registry
    ids = [t[c].id for c in OURS]
    async with owner_db.transaction(None) as s:
        for table in (Case, Grid, Community, Street, Unit):
            await s.execute(delete(table).where(table.tenant_id.in_(ids)))
        for code, (status, since) in STATUS.items():
            await s.execute(update(Tenant).where(Tenant.code == code).values(status=status, live_since=since))
        square = {"type": "Polygon", "coordinates": [[[116.8, 33.9], [116.81, 33.9], [116.8, 33.91]]]}
        for county, areas in (("340602", [20_000_000, 3_224_000]), ("340603", [13_850_000])):
            tid = t[county].id
            s.add(Street(tenant_id=tid, code=f"{county}001", name="测试街道", kind="street"))
            await s.flush()
            s.add(Community(tenant_id=tid, code=f"{county}001001", street_code=f"{county}001", name="社区"))
            await s.flush()
            for i, m2 in enumerate(areas, 1):
                s.add(
                    Grid(
                        tenant_id=tid,
                        code=f"{county}001001{i:02d}",
                        street_code=f"{county}001",
                        community_code=f"{county}001001",
                        area_m2=m2,
                        geometry=square,
                        centroid_lon=116.8,
                        centroid_lat=33.9,
                    )
                )
        for code, unit, active in (
            ("340602", "u1", True),
            ("340602", "u2", True),
            ("340602", "u3", True),
            ("340602", "u4", False),
            ("340603", "u1", True),
            (HUAIBEI, "dept1", True),
            (HUAIBEI, "dept2", True),
        ):
            s.add(Unit(tenant_id=t[code].id, code=unit, name=unit, kind="sector", active=active))
        dj, xs = t["340602"], t["340603"]
        day, hour, second = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)
        s.add_all(
            [
                _case(dj, 1, TODAY - day + 10 * hour, "supervisor", "sup-a"),
                _case(dj, 2, TODAY - 10 * day + 10 * hour, "supervisor", "sup-a"),
                _case(dj, 3, TODAY - 29 * day, "supervisor", "sup-b"),  # the window's first instant
                _case(dj, 4, TODAY, "hotline_12345", "hotline"),  # today's first instant
                _case(dj, 5, TODAY - 29 * day - second, "supervisor", "sup-c"),  # the day before it
                _case(dj, 6, TODAY - 31 * day, "supervisor", "sup-d"),
                _case(dj, 7, TODAY + day + hour, "supervisor", "sup-e"),  # tomorrow
                _case(xs, 1, TODAY - 2 * day + 10 * hour, "hotline_12345", "hotline"),
            ]
        )
    return registry


async def _as(app_db: Database, path: str, **kw: Any) -> Coverage:
    async with app_db.transaction(TenantContext(path)) as s:
        return await get_coverage(s, TenantContext(path), **kw)


def _ours(c: Coverage) -> dict[str, Any]:
    return {
        "divisions": {d.code: d for d in c.divisions if d.code in OURS},
        "by_city": {r.code: r for r in c.by_city if r.code in OURS},
    }


# --- figures, as the province supervisor (app role) ----------------------------------------------


async def test_division_figures(app_db: Database, arranged: dict[str, Tenant]) -> None:
    rows = _ours(await _as(app_db, "/34/", now=NOW))["divisions"]
    assert sorted(rows) == sorted(HB_DIVISIONS + TL_DIVISIONS)
    dj = rows["340602"]
    assert (dj.name, dj.level.value, dj.city_code, dj.city_name) == (
        "杜集区",
        "municipal_district",
        HUAIBEI,
        "淮北市",
    )
    assert (dj.status, dj.status.label, dj.live_since) == (TenantStatus.LIVE, "已上线", STATUS["340602"][1])
    assert (str(dj.area_km2), str(dj.grid_km2), dj.grids, dj.grid_share) == ("232.24", "23.224", 2, 0.1)
    assert (dj.units, dj.cases_30d, dj.supervisors_30d) == (3, 4, 2)  # u4 inactive; 5, 6, 7 outside
    xs = rows["340603"]
    assert (xs.grids, str(xs.grid_km2), xs.grid_share, xs.units, xs.cases_30d, xs.supervisors_30d) == (
        1,
        "13.85",
        0.1,
        1,
        1,
        0,
    )
    sx = rows["340621"]
    assert (sx.level.value, sx.status, sx.live_since, sx.grids, sx.grid_share, sx.units) == (
        "county",
        TenantStatus.ONBOARDING,
        None,
        0,
        0.0,
        0,
    )


async def test_cases_window_is_the_thirty_days_ending_at_now(
    app_db: Database, arranged: dict[str, Tenant]
) -> None:
    """Moving ``now`` moves the window by whole Beijing days: 30 of them, the day of ``now`` the last."""
    c = await _as(app_db, "/34/3406/340602/", now=TODAY - timedelta(days=31, hours=-12))
    (dj,) = c.divisions
    assert (dj.cases_30d, dj.supervisors_30d) == (1, 1)  # case 6, on this now's day: counted
    c = await _as(app_db, "/34/3406/340602/", now=TODAY - timedelta(days=29, seconds=1))
    (dj,) = c.divisions
    # days TODAY-59 … TODAY-30: cases 5 (TODAY-29d-1s, i.e. on day TODAY-30) and 6 (TODAY-31d)
    assert (dj.cases_30d, dj.supervisors_30d) == (2, 2)
    c = await _as(app_db, "/34/3406/340602/", now=TODAY + timedelta(days=10))
    (dj,) = c.divisions
    # days TODAY-19 … TODAY+10: cases 1, 2, 4 and 7 (tomorrow's); sup-a and sup-e
    assert (dj.cases_30d, dj.supervisors_30d) == (4, 2)


async def test_by_city_roll_ups(app_db: Database, arranged: dict[str, Tenant]) -> None:
    by_city = _ours(await _as(app_db, "/34/", now=NOW))["by_city"]
    hb, tl = by_city[HUAIBEI], by_city[TONGLING]
    # 淮北: 3 of 4 live → 75 %; 232.24 + 138.5 + 383.45 + 1990.82 = 2745.01 km²; 23.224 + 13.85 km² grids
    assert (hb.name, hb.total, hb.live, hb.onboarding, hb.registered, hb.suspended) == (
        "淮北市",
        4,
        3,
        1,
        0,
        0,
    )
    assert (hb.live_share, str(hb.area_km2), str(hb.grid_km2), hb.grids) == (0.75, "2745.01", "37.074", 3)
    assert hb.grid_share == 0.0135  # 37.074 / 2745.01 = 0.013506
    assert (hb.units, hb.cases_30d, hb.supervisors_30d) == (4, 5, 2)  # divisions' units only
    # 铜陵: 1 of 4 live → 25 %, one suspended, two registered, no grids
    assert (tl.total, tl.live, tl.onboarding, tl.registered, tl.suspended) == (4, 1, 0, 2, 1)
    assert (tl.live_share, str(tl.area_km2), tl.grid_share) == (0.25, "2987.34", 0.0)


async def test_by_level_and_total_for_one_city(app_db: Database, arranged: dict[str, Tenant]) -> None:
    c = await _as(app_db, "/34/", now=NOW, city=HUAIBEI)
    assert (c.code, c.name) == (HUAIBEI, "淮北市")
    levels = {r.code: r for r in c.by_level}
    assert list(levels) == ["prefecture_city", "municipal_district", "county"]
    city, district, county = levels.values()
    # the city's own platform: 1 city, live; its area; its divisions' grids; its own 2 departments
    assert (city.name, city.total, city.live, city.live_share, str(city.area_km2)) == (
        "地级市",
        1,
        1,
        1.0,
        "2745.02",
    )
    assert (str(city.grid_km2), city.grid_share, city.units, city.cases_30d) == ("37.074", 0.0135, 2, 5)
    # 3 districts, all live; 37.074 / 754.19 = 0.049157
    assert (district.name, district.total, district.live, district.live_share) == ("市辖区", 3, 3, 1.0)
    assert (str(district.area_km2), district.grid_share, district.units) == ("754.19", 0.0492, 4)
    assert (county.name, county.total, county.live, county.onboarding, county.live_share) == (
        "县",
        1,
        0,
        1,
        0.0,
    )
    assert (c.total.total, c.total.live, c.total.live_share, str(c.total.area_km2)) == (4, 3, 0.75, "2745.01")
    assert [d.code for d in c.divisions] == HB_DIVISIONS
    assert [r.code for r in c.by_city] == [HUAIBEI]


async def test_velocity_per_beijing_month(app_db: Database, arranged: dict[str, Tenant]) -> None:
    hb = await _as(app_db, "/34/", now=VELOCITY_NOW, months=6, city=HUAIBEI)
    assert [(v.month, v.went_live, v.cumulative) for v in hb.velocity] == [
        ("2025-11", 1, 1),  # 杜集
        ("2025-12", 0, 1),
        ("2026-01", 1, 2),  # 相山
        ("2026-02", 0, 2),
        ("2026-03", 1, 3),  # 烈山: 00:30 on 1 March in Beijing, still February in UTC
        ("2026-04", 0, 3),
    ]  # the city's own live_since (2025-11-01) is not a division's: not counted
    tl = await _as(app_db, "/34/", now=VELOCITY_NOW, months=3, city=TONGLING)
    # 义安 went live in December and is suspended now: it still went live then
    assert [(v.month, v.went_live, v.cumulative) for v in tl.velocity] == [
        ("2026-02", 1, 2),
        ("2026-03", 0, 2),
        ("2026-04", 0, 2),
    ]


async def test_city_filter_is_scoped(app_db: Database, arranged: dict[str, Tenant]) -> None:
    with pytest.raises(NotFound):
        await _as(app_db, "/34/3406/", now=NOW, city=TONGLING)  # another city: not found
    with pytest.raises(NotFound):
        await _as(app_db, "/34/3406/340602/", now=NOW, city=HUAIBEI)  # its own city is above it
    with pytest.raises(InvalidInput):
        await _as(app_db, "/34/", now=NOW, city="340602")  # a division is not a city
    with pytest.raises(InvalidInput):
        await _as(app_db, "/34/", now=NOW.replace(tzinfo=None))


# --- the API and its scope rule ------------------------------------------------------------------


@pytest.fixture
def client(client: Client, arranged: dict[str, Tenant]) -> Client:
    """The session's app client, once this module's cities are arranged."""
    return client


async def _get(client: Client, token: str, query: str = "") -> dict[str, Any]:
    resp = await client.get(f"/api/v1/coverage{query}", headers=bearer(token))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_api_city_admin_sees_only_its_city(client: Client, mint: Mint) -> None:
    body = await _get(client, mint("city_admin", "/34/3406"))
    assert (body["code"], body["name"], body["cities"]) == (HUAIBEI, "淮北市", 1)
    assert [d["code"] for d in body["divisions"]] == HB_DIVISIONS
    assert [r["code"] for r in body["by_city"]] == [HUAIBEI]
    dj = body["divisions"][0]
    assert (dj["status"], dj["status_label"], dj["level_label"], dj["live_since"]) == (
        "live",
        "已上线",
        "市辖区",
        "2025-11-10T01:00:00Z",
    )
    assert (dj["area_km2"], dj["grid_km2"], dj["grid_share"], dj["units"], dj["cases_30d"]) == (
        232.24,
        23.224,
        0.1,
        3,
        4,
    )
    total = body["total"]
    assert (total["total"], total["live"], total["live_share"], total["area_km2"], total["grid_km2"]) == (
        4,
        3,
        0.75,
        2745.01,
        37.074,
    )
    assert [(r["code"], r["total"], r["live"]) for r in body["by_level"]] == [
        ("prefecture_city", 1, 1),
        ("municipal_district", 3, 3),
        ("county", 1, 0),
    ]
    velocity = body["velocity"]
    assert len(velocity) == 12
    assert velocity[-1]["month"] in {f"{NOW.astimezone(BJ):%Y-%m}", f"{datetime.now(BJ):%Y-%m}"}
    other = await client.get("/api/v1/coverage?city=340700", headers=bearer(mint("city_admin", "/34/3406")))
    assert other.status_code == 404


async def test_api_velocity_months(client: Client, mint: Mint) -> None:
    body = await _get(client, mint("province_supervisor", "/34"), "?city=340600&months=120")
    went = [v for v in body["velocity"] if v["went_live"]]
    assert [(v["month"], v["went_live"]) for v in went] == [("2025-11", 1), ("2026-01", 1), ("2026-03", 1)]
    assert body["velocity"][-1]["cumulative"] == 3


async def test_api_county_sees_itself_only(client: Client, mint: Mint) -> None:
    token = mint("county_admin", "/34/3406/340602")
    body = await _get(client, token)
    assert [d["code"] for d in body["divisions"]] == ["340602"]
    assert [(r["code"], r["name"], r["total"]) for r in body["by_city"]] == [(HUAIBEI, "淮北市", 1)]
    assert [r["code"] for r in body["by_level"]] == ["municipal_district"]  # no city platform in scope
    assert (body["total"]["cases_30d"], body["total"]["supervisors_30d"]) == (4, 2)
    resp = await client.get("/api/v1/coverage?city=340600", headers=bearer(token))
    assert resp.status_code == 404


async def test_api_province_sees_both_cities_and_filters(client: Client, mint: Mint) -> None:
    token = mint("province_supervisor", "/34")
    body = await _get(client, token)
    assert body["code"] == "340000"
    codes = {d["code"] for d in body["divisions"]}
    assert OURS - {HUAIBEI, TONGLING} <= codes and all(c.startswith("34") for c in codes)
    by_city = {r["code"]: r for r in body["by_city"]}
    assert (by_city[TONGLING]["live_share"], by_city[TONGLING]["suspended"]) == (0.25, 1)
    one = await _get(client, token, "?city=340700")
    assert [d["code"] for d in one["divisions"]] == TL_DIVISIONS
    city = one["by_level"][0]
    assert (city["code"], city["total"], city["onboarding"], city["live_share"]) == (
        "prefecture_city",
        1,
        1,
        0.0,
    )


async def test_api_another_province_sees_none_of_these(client: Client, mint: Mint) -> None:
    token = mint("province_supervisor", "/32")
    body = await _get(client, token)
    assert body["divisions"] and not [d for d in body["divisions"] if d["code"] in OURS]
    assert not [r for r in body["by_city"] if r["code"] in OURS]
    assert (await client.get("/api/v1/coverage?city=340600", headers=bearer(token))).status_code == 404


@pytest.mark.parametrize(
    ("query", "status"), [("?city=340602", 422), ("?months=0", 400), ("?months=121", 400), ("?city=34", 400)]
)
async def test_api_bad_input(client: Client, mint: Mint, query: str, status: int) -> None:
    resp = await client.get(f"/api/v1/coverage{query}", headers=bearer(mint("province_supervisor", "/34")))
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")


async def test_api_needs_a_token(client: Client) -> None:
    assert (await client.get("/api/v1/coverage")).status_code == 401


# --- isolation: the app role with RLS forced ------------------------------------------------------


async def test_rls_alone_limits_coverage(app_db: Database, arranged: dict[str, Tenant]) -> None:
    """The query scoped to the whole province, run in a sibling county's context: RLS still hides
    every tenant and figure that is not the county's own (or its ancestors' tree rows)."""
    async with app_db.transaction(TenantContext("/34/3406/340603/")) as s:
        rows = await list_coverage(s, TenantContext("/34/"), now=NOW)
    assert [(r.code, r.grids, r.cases_30d) for r in rows] == [(HUAIBEI, 0, 0), ("340603", 1, 1)]


READERS = {  # actor path → sees 340602's grids, units and cases?
    "/34/3406/340602/": True,  # itself
    "/34/3406/": True,  # parent city
    "/34/": True,  # province
    "/34/3406/340603/": False,  # sibling county
    "/34/3407/": False,  # other city
    "/34/3407/340705/": False,  # other city's county
    "/32/": False,  # other province
}


@pytest.mark.parametrize(("actor", "sees"), list(READERS.items()))
async def test_read_matrix(app_db: Database, arranged: dict[str, Tenant], actor: str, sees: bool) -> None:
    tid = arranged["340602"].id
    async with app_db.transaction(TenantContext(actor)) as s:
        counts = [
            await s.scalar(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tid})
            for table in ("grids", "units", "cases")
        ]
        division = await list_coverage(s, TenantContext(actor), now=NOW)
    assert counts == ([2, 4, 7] if sees else [0, 0, 0])
    assert ("340602" in {r.code for r in division}) is sees


@pytest.mark.parametrize("actor", ["/34/3406/340603/", "/34/3407/", "/34/3407/340705/", "/32/", "/34/3406/"])
async def test_others_cannot_change_the_figures(
    app_db: Database, owner_db: Database, arranged: dict[str, Tenant], actor: str
) -> None:
    """Status, grids, units and cases of 340602 cannot be changed from another tenant's context
    (not even its parent city's: a city acts in the county's own context)."""
    tid = arranged["340602"].id
    async with app_db.transaction(TenantContext(actor)) as s:
        changed = [
            (await s.execute(text(sql), {"t": tid})).rowcount  # type: ignore[attr-defined]
            for sql in (
                "UPDATE tenants SET status = 'suspended' WHERE id = :t",
                "UPDATE grids SET area_m2 = 1 WHERE tenant_id = :t",
                "UPDATE units SET name = 'intruder' WHERE tenant_id = :t",
                "UPDATE cases SET reported_at = now() WHERE tenant_id = :t",
            )
        ]
    assert changed == [0, 0, 0, 0]
    async with owner_db.transaction(None) as s:
        assert await s.scalar(text("SELECT status FROM tenants WHERE id = :t"), {"t": tid}) == "live"
        names = await s.scalars(text("SELECT name FROM units WHERE tenant_id = :t ORDER BY code"), {"t": tid})
        assert list(names) == ["u1", "u2", "u3", "u4"]


async def test_the_county_itself_can_change_its_rows(app_db: Database, arranged: dict[str, Tenant]) -> None:
    """Positive control: the same statements reach the rows in 340602's own context (values unchanged)."""
    tid = arranged["340602"].id
    async with app_db.transaction(TenantContext("/34/3406/340602/")) as s:
        changed = [
            (await s.execute(text(sql), {"t": tid})).rowcount  # type: ignore[attr-defined]
            for sql in (
                "UPDATE grids SET area_m2 = area_m2 WHERE tenant_id = :t",
                "UPDATE units SET name = name WHERE tenant_id = :t",
                "UPDATE cases SET reported_at = reported_at WHERE tenant_id = :t",
            )
        ]
    assert changed == [2, 4, 7]

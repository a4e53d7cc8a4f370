"""City and province roll-ups, who reads them, and the export, through the real app and tokens (the
application role, RLS on). The worked numbers are in xuancheng.py."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from citylead.assessment.results import list_assessments
from citylead.assessment.rollup import Period
from citylead.db import Database
from tenants.context import TenantContext
from tenants.errors import NotFound
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.assessment.conftest import COUNTY as JINAN
from tests.integration.assessment.xuancheng import (
    CITY,
    CITY_SUM,
    COUNTERS,
    LANGXI,
    PERIOD,
    PERIOD_BEFORE,
    UNIT,
    XUANZHOU,
    World,
)
from tests.support import Mint, bearer

URL = "/api/v1/assessments"
LU_AN = "341500"


async def _get(
    client: AsyncTestClient[Litestar],
    mint: Mint,
    role: str,
    home: Tenant,
    expect: int = 200,
    path: str = "",
    **query: str,
) -> Any:
    r = await client.get(URL + path, params=query, headers=bearer(mint(role, home.path.rstrip("/"))))
    assert r.status_code == expect, r.text
    return r if path else r.json()


def _pick(rows: list[dict[str, Any]], tenant: str, kind: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["tenant"] == tenant and r["subject_type"] == kind]
    return row


async def test_the_city_is_the_sum_of_its_counties_scored_under_its_own_rules(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World
) -> None:
    rows = await _get(client, mint, "city_admin", registry[CITY], period=PERIOD)
    city = _pick(rows, CITY, "city")
    assert city["counters"] == CITY_SUM.as_dict()
    assert (city["subject_code"], city["scored_as"], city["parts"]) == (CITY, "region", 2)
    assert city["tenant_name"] == "宣城市"
    rates = {k: (v["numerator"], v["denominator"]) for k, v in city["rates"].items()}
    assert rates == {
        "disposal_rate": (45, 50),
        "ontime_disposal_rate": (35, 50),
        "rework_rate": (5, 40),
        "overdue_pending_rate": (5, 50),
        "postpone_rate": (5, 50),
    }
    assert city["scores"] == {
        "disposal_rate": 90.0,
        "ontime_disposal_rate": 70.0,
        "rework_rate": 87.5,
        "overdue_pending_rate": 90.0,
        "postpone_rate": 90.0,
    }
    assert (city["composite"], city["grade"]) == (85.5, "A")  # A ≥ 85 is the city's own threshold
    assert city["provenance"]["assessment/region/grade/A"] == f"{CITY} v{xuancheng.city_version}"
    assert city["rules"] == ",".join(xuancheng.after[XUANZHOU].split(",")[:2])  # province, city
    # the counties, scored each on its own: 87.5 A and 78 B (their mean, 82.75, is not the city's)
    assert (_pick(rows, XUANZHOU, "county")["composite"], _pick(rows, XUANZHOU, "county")["grade"]) == (
        87.5,
        "A",
    )
    assert (_pick(rows, LANGXI, "county")["composite"], _pick(rows, LANGXI, "county")["grade"]) == (78.0, "B")
    assert [r["tenant"] for r in rows] == sorted(r["tenant"] for r in rows)  # the city before its counties
    assert not [r for r in rows if r["subject_type"] == "province"]  # the province is above the city


async def test_a_roll_up_keeps_the_rules_its_counties_were_counted_with(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World
) -> None:
    """2019-07's rows were pinned before the city's override: the same sums grade B (A ≥ 90)."""
    [city] = await _get(client, mint, "city_admin", registry[CITY], period=PERIOD_BEFORE, subject_type="city")
    assert (city["composite"], city["grade"]) == (85.5, "B")
    assert city["rules"] == ",".join(xuancheng.before[XUANZHOU].split(",")[:2])
    assert city["provenance"]["assessment/region/grade/A"].startswith("340000 v")


async def test_the_province_sums_every_county_under_its_own_rules(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World
) -> None:
    who = ("province_supervisor", registry["340000"])
    [province] = await _get(client, mint, *who, period=PERIOD, subject_type="province")
    assert (province["tenant"], province["subject_code"], province["parts"]) == ("340000", "340000", 2)
    assert province["counters"] == CITY_SUM.as_dict()
    assert (province["composite"], province["grade"]) == (85.5, "B")  # the province's A is 90
    cities = await _get(client, mint, *who, period=PERIOD, subject_type="city")
    assert [(c["tenant"], c["grade"]) for c in cities] == [(CITY, "A")]
    named = await _get(client, mint, *who, period=PERIOD, subject_type="city", tenant=CITY)
    assert named == cities


async def test_a_county_sees_itself_only(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World
) -> None:
    rows = await _get(client, mint, "county_admin", registry[LANGXI], period=PERIOD)
    assert {r["tenant"] for r in rows} == {LANGXI}
    assert {r["subject_type"] for r in rows} == {"county", "grid"}  # no city row: it is above
    assert _pick(rows, LANGXI, "county")["counters"] == COUNTERS[LANGXI].as_dict()
    assert (
        await _get(client, mint, "county_admin", registry[LANGXI], period=PERIOD, subject_type="city") == []
    )


@pytest.mark.parametrize(
    ("role", "home", "asked"),
    [
        ("county_admin", LANGXI, XUANZHOU),  # a sibling county
        ("county_admin", LANGXI, CITY),  # its own city, above it
        ("city_admin", CITY, JINAN),  # another city's county
        ("city_admin", CITY, LU_AN),  # another city
        ("city_admin", LU_AN, CITY),
    ],
)
async def test_outside_the_subtree_is_the_same_404_as_missing(
    client: AsyncTestClient[Litestar],
    mint: Mint,
    registry: dict[str, Tenant],
    xuancheng: World,
    role: str,
    home: str,
    asked: str,
) -> None:
    other = await _get(client, mint, role, registry[home], 404, period=PERIOD, tenant=asked)
    missing = await _get(client, mint, role, registry[home], 404, period=PERIOD, tenant="341899")
    assert other | {"detail": None} == missing | {"detail": None}
    assert (other["detail"], missing["detail"]) == (f"no tenant {asked}", "no tenant 341899")
    export = await _get(client, mint, role, registry[home], 404, "/export", period=PERIOD, tenant=asked)
    assert export.json() | {"detail": None, "instance": None} == missing | {"detail": None, "instance": None}


@pytest.mark.parametrize("role", ["supervisor", "intake", "shift_lead", "dispatcher"])
async def test_posts_may_not_read_assessments(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World, role: str
) -> None:
    for path in ("", "/export"):
        r = await client.get(
            URL + path,
            params={"period": PERIOD},
            headers=bearer(mint(role, registry[XUANZHOU].path.rstrip("/"))),
        )
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "department" in r.json()["detail"]


async def test_a_department_reads_its_own_units_only(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World
) -> None:
    rows = await _get(client, mint, "department", registry[XUANZHOU], period=PERIOD)
    assert [(r["subject_type"], r["subject_code"]) for r in rows] == [("department", UNIT)]
    # department 10/30/30/30: volume 8 → 0, 结案率 8/8 → 100, 按期处置率 6/8 → 75, 返工率 0/8 → 100
    assert (rows[0]["composite"], rows[0]["grade"]) == (82.5, "B")  # (0 + 3000 + 2250 + 3000) / 100
    nothing = await _get(client, mint, "department", registry[XUANZHOU], period=PERIOD, subject_type="county")
    assert nothing == []
    # a department user of 郎溪县 has no unit there: nothing at all
    assert await _get(client, mint, "department", registry[LANGXI], period=PERIOD) == []


async def test_rls_underneath_a_sibling_context_reads_no_row(
    app_db: Database, registry: dict[str, Tenant], xuancheng: World
) -> None:
    """As the application role in 郎溪县's context, even naming 宣州区 finds nothing; in the city's,
    both counties and the roll-up."""
    langxi = TenantContext(registry[LANGXI].path)
    async with app_db.transaction(langxi) as s:
        with pytest.raises(NotFound):
            await list_assessments(
                s, langxi, period=Period.parse(PERIOD), resolver=Resolver(), tenant_code=XUANZHOU
            )
        mine = await list_assessments(s, langxi, period=Period.parse(PERIOD), resolver=Resolver())
    assert {r.tenant for r in mine} == {LANGXI}
    city = TenantContext(registry[CITY].path)
    async with app_db.transaction(city) as s:
        everything = await list_assessments(s, city, period=Period.parse(PERIOD), resolver=Resolver())
    assert {r.tenant for r in everything} == {CITY, XUANZHOU, LANGXI}


# --- export -----------------------------------------------------------------------------------------


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    """What the export must show for one JSON row, keyed by its Chinese header."""
    out: dict[str, Any] = {"单位代码": row["tenant"], "考核对象": row["subject_code"], "周期": row["period"]}
    out |= {
        "应处置数": row["counters"]["due_for_disposal"],
        "返工处置数": row["counters"]["reworked_disposals"],
    }
    out |= {
        "处置率(%)": row["rates"]["disposal_rate"]["percent"],
        "处置率得分": row["scores"]["disposal_rate"],
    }
    out |= {"综合得分": row["composite"], "等级": row["grade"], "规则版本": row["rules"]}
    return out


async def test_export_csv_matches_the_api(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World
) -> None:
    city_admin = ("city_admin", registry[CITY])
    rows = await _get(client, mint, *city_admin, period=PERIOD, subject_type="county")
    rows += await _get(client, mint, *city_admin, period=PERIOD, subject_type="city")
    r = await _get(client, mint, *city_admin, 200, "/export", period=PERIOD, format="csv")
    assert r.headers["content-type"].startswith("text/csv")
    name = quote(f"考核结果_{CITY}_{PERIOD}.csv")
    assert r.headers["content-disposition"] == (
        f"attachment; filename=\"assessments_{CITY}_{PERIOD}.csv\"; filename*=UTF-8''{name}"
    )
    assert r.content.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {
        "单位",
        "考核对象",
        "周期",
        "应处置数",
        "处置率(%)",
        "处置率得分",
        "综合得分",
        "等级",
        "规则版本",
    } <= set(table[0])
    by_key = {(t["单位代码"], t["考核类型"]): t for t in table}
    city = by_key[(CITY, "市")]
    assert (city["单位"], city["综合得分"], city["等级"], city["处置率(%)"]) == (
        "宣城市",
        "85.50",
        "A",
        "90.00",
    )
    for row in rows:
        kind = {"city": "市", "county": "区县"}[row["subject_type"]]
        shown = by_key[(row["tenant"], kind)]
        for header, value in _figures(row).items():
            if isinstance(value, int | float):
                assert float(shown[header]) == value, header
            else:
                assert shown[header] == value, header
    assert len(table) == 7  # the city, 2 counties, 2 grids, a department and a supervisor


async def test_export_xlsx_matches_the_api(
    client: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], xuancheng: World
) -> None:
    who = ("county_admin", registry[XUANZHOU])
    rows = await _get(client, mint, *who, period=PERIOD, subject_type="department")
    r = await _get(
        client, mint, *who, 200, "/export", period=PERIOD, subject_type="department", format="xlsx"
    )
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and sheet.title == "考核结果"
    header, *cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    table = [dict(zip(header, row, strict=True)) for row in cells]
    assert len(table) == len(rows) == 1
    [shown], [row] = table, rows
    assert shown["考核类型"] == "专业部门"
    assert shown["工作量得分"] == row["scores"]["volume"]  # volume: a score, no percent column
    assert "工作量(%)" not in header
    for name in ("closing_rate", "ontime_disposal_rate"):
        label = {"closing_rate": "结案率", "ontime_disposal_rate": "按期处置率"}[name]
        assert shown[f"{label}(%)"] == row["rates"][name]["percent"]
        assert shown[f"{label}得分"] == row["scores"][name]
    assert (shown["综合得分"], shown["等级"]) == (row["composite"], row["grade"])
    assert shown["应结案数"] == row["counters"]["due_to_close"] == 8

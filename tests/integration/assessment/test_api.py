"""``GET /api/v1/assessments`` on 金安区's refreshed October, through the real app and tokens.

Scores under the Anhui baseline (340000): region 30/20/20/20/10, department 10/30/30/30, grades
A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40. County October (see test_rollup): 处置率 4/5 → 80, 按期处置率
3/5 → 60, 返工率 1/4 → 75, 超期待处置率 1/5 → 80, 延期率 1/5 → 80: composite
(2400 + 1200 + 1500 + 1600 + 800) / 100 = 75, grade B. Unit CGZF: volume 6 → 0, 结案率 2/3,
按期处置率 2/4 → 50, 返工率 1/3: (0 + 2000 + 1500 + 2000) / 100 = 55, grade D.

Posts, 50/50 each. Shift lead sl-1: 按时立案率 5/6 (C filed late) → 250/3 ≈ 83.33, 准确立案率
(6 − 1)/6 (C voided) → 250/3: composite 250/3 ≈ 83.33, grade B (with every filing on time it
was (100 + 83.33) / 2 = 91.67, an A). Dispatcher disp-1: 按时派遣率 4/5 (D dispatched late) → 80,
准确派遣率 (5 − 1)/5 (F returned) → 80: composite 80, grade B (90, an A, with D on time).
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from citylead.assessment.rollup import Period, do_refresh
from citylead.db import Database
from citylead.geography.models import Grid
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.assessment.conftest import CITY, COUNTY, OTHER_CITY, SIBLING
from tests.support import Mint, bearer

URL = "/api/v1/assessments"


@pytest.fixture(scope="module")
async def http(
    client: AsyncTestClient[Litestar], app_db: Database, registry: dict[str, Tenant], month: list[Grid]
) -> AsyncTestClient[Litestar]:
    """The session's app client, once October is rolled up for the county."""
    county = registry[COUNTY]
    async with app_db.transaction(TenantContext(county.path)) as s:
        await do_refresh(s, county, Period.parse("2026-10"), acting_user="admin@341502")
    return client


async def _get(
    http: AsyncTestClient[Litestar], mint: Mint, who: tuple[str, Tenant], expect: int = 200, **query: str
) -> Any:
    role, tenant = who
    r = await http.get(URL, params=query, headers=bearer(mint(role, tenant.path.rstrip("/"))))
    assert r.status_code == expect, r.text
    return r.json()


async def test_the_county_reads_its_scores(
    http: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant]
) -> None:
    me = ("county_admin", registry[COUNTY])
    [county] = await _get(http, mint, me, period="2026-10", subject_type="county")
    assert (county["tenant"], county["subject_code"], county["scored_as"]) == (COUNTY, COUNTY, "region")
    assert (county["composite"], county["grade"]) == (75.0, "B")
    assert county["rates"]["disposal_rate"] | {"percent": None} == {
        "numerator": 4,
        "denominator": 5,
        "numerator_of": "disposed",
        "denominator_of": "due_for_disposal",
        "percent": None,
    }
    assert county["counters"]["due_for_disposal"] == 5
    assert county["provenance"]["assessment/region/weight/disposal_rate"].startswith("340000 v")
    assert county["rules"].startswith("340000:")
    units = await _get(http, mint, me, period="2026-10", subject_type="department")
    by_code = {u["subject_code"]: u for u in units}
    assert set(by_code) == {f"{COUNTY}:CGZF", f"{COUNTY}:HJWS"}
    assert (by_code[f"{COUNTY}:CGZF"]["composite"], by_code[f"{COUNTY}:CGZF"]["grade"]) == (55.0, "D")


async def test_the_filing_and_dispatch_posts_are_scored_on_their_deadlines(
    http: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant]
) -> None:
    me = ("county_admin", registry[COUNTY])
    [lead] = await _get(http, mint, me, period="2026-10", subject_type="shift_lead")
    [dispatcher] = await _get(http, mint, me, period="2026-10", subject_type="dispatcher")
    filing, dispatch = lead["rates"]["ontime_filing_rate"], dispatcher["rates"]["ontime_dispatch_rate"]
    assert (filing["numerator"], filing["denominator"], filing["percent"]) == (5, 6, 83.33)
    assert (dispatch["numerator"], dispatch["denominator"], dispatch["percent"]) == (4, 5, 80.0)
    assert (lead["subject_code"], lead["composite"], lead["grade"]) == ("sl-1", 83.33, "B")
    assert (dispatcher["subject_code"], dispatcher["composite"], dispatcher["grade"]) == ("disp-1", 80.0, "B")


async def test_the_city_reads_its_counties(
    http: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant]
) -> None:
    city = ("city_admin", registry[CITY])
    named = await _get(http, mint, city, period="2026-10", tenant=COUNTY, subject_type="county")
    subtree = await _get(http, mint, city, period="2026-10", subject_type="county")
    assert [r["composite"] for r in named] == [75.0]
    assert [r["tenant"] for r in subtree] == [COUNTY]


@pytest.mark.parametrize("intruder", [SIBLING, OTHER_CITY])
async def test_others_get_not_found(
    http: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant], intruder: str
) -> None:
    role = "county_admin" if intruder == SIBLING else "city_admin"
    who = (role, registry[intruder])
    problem = await _get(http, mint, who, 404, period="2026-10", tenant=COUNTY)
    assert COUNTY in problem["detail"]
    assert await _get(http, mint, who, period="2026-10") == []  # nothing of theirs was refreshed


async def test_bad_queries_are_refused(
    http: AsyncTestClient[Litestar], mint: Mint, registry: dict[str, Tenant]
) -> None:
    me = ("county_admin", registry[COUNTY])
    bad_period = await _get(http, mint, me, 422, period="2026-13")
    assert bad_period["errors"][0]["field"] == "period"
    bad_subject = await _get(http, mint, me, 422, period="2026-10", subject_type="mayor")
    assert bad_subject["errors"][0]["field"] == "subject_type"

"""``DatabaseReader``'s case and assessment reads on PostgreSQL as the application role: the
numbers of the conftest's cases, worked by hand, and the scoping — a city admin sees only their
city, a county admin only their county, a drill-down outside the subtree is NotFound."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from citylead.assessment.models import AssessmentCounters
from citylead.assessment.rollup import Period
from citylead.cases.models import Case
from citylead.cases.volume import CaseVolume, do_refresh_volume
from citylead.db import Database
from citylead.identity.principal import Principal, Role
from dashboard import DatabaseReader
from tenants.context import TenantContext
from tenants.errors import NotFound
from tenants.models import Tenant, TenantLevel
from tests.integration.dashboard.conftest import (
    CHUZHOU,
    F1,
    FUYANG,
    G1,
    G2,
    G3,
    LANGYA,
    NANQIAO,
    NOW,
    YINGZHOU,
)
from tests.unit.test_dashboard_performance import WORKED

SEPT, OCT = (date(2026, 9, 1), date(2026, 10, 1)), (date(2026, 10, 1), date(2026, 11, 1))
PROVINCE = Principal("s", "prov", frozenset({Role.PROVINCE_SUPERVISOR}), "/34/")
CITY = Principal("s", "chuzhou", frozenset({Role.CITY_ADMIN}), "/34/3411/")
COUNTY = Principal("s", "langya", frozenset({Role.COUNTY_ADMIN}), "/34/3411/341102/")
OTHER_CITY = Principal("s", "fuyang", frozenset({Role.CITY_ADMIN}), "/34/3412/")


@pytest.fixture(scope="module")
def reader(app_db: Database) -> DatabaseReader:
    return DatabaseReader(app_db)


async def test_volume_by_class_counts_beijing_months_of_the_city(
    reader: DatabaseReader, case_stats: dict[str, Case]
) -> None:
    found = await reader.case_volume(CITY, since=SEPT[0], until=SEPT[1], tenant=None)
    # c1 c2 (琅琊) + c7 c8 (南谯) are 06012; c3 01001; c4 0101. c5 is August, c6 October in Beijing.
    assert [(v.kind, v.class_code, v.cases) for v in found.by_class] == [
        ("matter", "06012", 4),
        ("component", "0101", 1),
        ("matter", "01001", 1),
    ]
    names = {v.class_code: (v.major_code, v.class_name, v.major_name) for v in found.by_class}
    assert names["06012"][0] == "06"
    assert all(name and not name.isdigit() for _, name, major in names.values() for name in (name, major))
    october = await reader.case_volume(CITY, since=OCT[0], until=OCT[1], tenant=None)
    assert [(v.class_code, v.cases) for v in october.by_class] == [("06012", 1)]  # c6


async def test_volume_by_grid_busiest_first(reader: DatabaseReader, case_stats: dict[str, Case]) -> None:
    found = await reader.case_volume(CITY, since=SEPT[0], until=SEPT[1], tenant=None)
    assert [(g.county_code, g.grid_code, g.cases) for g in found.by_grid] == [
        (LANGYA, G1, 2),
        (NANQIAO, G3, 2),
        (LANGYA, "", 1),  # c4: outside every grid
        (LANGYA, G2, 1),
    ]
    assert found.by_grid[0].county_name == "琅琊区"


async def test_lights_and_overdue_of_the_city(reader: DatabaseReader, case_stats: dict[str, Case]) -> None:
    found = await reader.case_clocks(CITY, now=NOW, tenant=None)
    lights = [(c.code, c.green, c.yellow, c.red, c.paused) for c in found.lights]
    assert lights == [(LANGYA, 1, 1, 1, 0), (NANQIAO, 0, 0, 1, 1)]
    # c9 (阜阳) is older than both, but not the city's
    assert [(c.number, c.hours_overdue) for c in found.overdue] == [
        (f"H3-{LANGYA}-c4", 26.5),
        (f"H3-{NANQIAO}-c7", 2.0),
    ]
    c4 = found.overdue[0]
    assert (c4.county_name, c4.kind, c4.class_code, c4.address, c4.unit_name, c4.step) == (
        "琅琊区",
        "component",
        "0101",
        "c4 路",
        "环卫所",
        "dispose",
    )


async def test_a_county_admin_sees_only_their_county(
    reader: DatabaseReader, case_stats: dict[str, Case]
) -> None:
    volume = await reader.case_volume(COUNTY, since=SEPT[0], until=SEPT[1], tenant=None)
    assert sum(v.cases for v in volume.by_class) == 4  # c1 c2 c3 c4
    assert {g.county_code for g in volume.by_grid} == {LANGYA}
    clocks = await reader.case_clocks(COUNTY, now=NOW, tenant=None)
    assert [c.code for c in clocks.lights] == [LANGYA]
    assert [c.number for c in clocks.overdue] == [f"H3-{LANGYA}-c4"]
    with pytest.raises(NotFound):
        await reader.case_clocks(COUNTY, now=NOW, tenant=NANQIAO)  # the sibling
    with pytest.raises(NotFound):
        await reader.case_volume(COUNTY, since=SEPT[0], until=SEPT[1], tenant=CHUZHOU)  # its own city


async def test_other_city_and_drill_down(reader: DatabaseReader, case_stats: dict[str, Case]) -> None:
    fuyang = await reader.case_clocks(OTHER_CITY, now=NOW, tenant=None)
    assert [(c.code, c.red) for c in fuyang.lights] == [(YINGZHOU, 1)]
    assert [c.number for c in fuyang.overdue] == [f"H3-{YINGZHOU}-c9"]
    volume = await reader.case_volume(OTHER_CITY, since=SEPT[0], until=SEPT[1], tenant=None)
    assert [(g.grid_code, g.cases) for g in volume.by_grid] == [(F1, 1)]
    with pytest.raises(NotFound):
        await reader.case_clocks(CITY, now=NOW, tenant=YINGZHOU)
    # the province narrows to a county of either city
    narrowed = await reader.case_clocks(PROVINCE, now=NOW, tenant=NANQIAO)
    assert [c.number for c in narrowed.overdue] == [f"H3-{NANQIAO}-c7"]
    both = await reader.case_volume(PROVINCE, since=SEPT[0], until=SEPT[1], tenant=None)
    ours = {
        (g.county_code, g.grid_code): g.cases for g in both.by_grid if g.county_code[:4] in ("3411", "3412")
    }
    assert ours == {(LANGYA, G1): 2, (NANQIAO, G3): 2, (LANGYA, ""): 1, (LANGYA, G2): 1, (YINGZHOU, F1): 1}


async def test_refresh_replaces_months_and_is_idempotent(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case]
) -> None:
    county = registry[LANGYA]

    async def rows() -> list[tuple[date, str, str, str, int]]:
        v = CaseVolume
        async with app_db.transaction(TenantContext(county.path)) as s:
            found = await s.execute(
                select(v.month, v.axis, v.kind, v.code, v.cases)
                .where(v.tenant_id == county.id)
                .order_by(v.month, v.axis, v.kind, v.code)
            )
            return [(m, a, k, c, n) for m, a, k, c, n in found.all()]

    before = await rows()
    aug, sep, oct_ = date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)
    assert before == [
        (aug, "class", "matter", "06012", 1),  # c5: 23:30 on 31 August in Beijing
        (aug, "grid", "", G1, 1),
        (sep, "class", "component", "0101", 1),
        (sep, "class", "matter", "01001", 1),
        (sep, "class", "matter", "06012", 2),
        (sep, "grid", "", "", 1),  # c4: outside every grid
        (sep, "grid", "", G1, 2),
        (sep, "grid", "", G2, 1),
        (oct_, "class", "matter", "06012", 1),  # c6: 00:30 on 1 October in Beijing (September in UTC)
        (oct_, "grid", "", G1, 1),
    ]
    async with app_db.transaction(TenantContext(county.path)) as s:
        report = await do_refresh_volume(s, county, Period.parse("2026-09"), acting_user="t")
    assert (report.rows, report.cases) == (6, 4)
    assert await rows() == before


async def test_periods_and_assessments_stay_in_scope(
    reader: DatabaseReader, owner_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case]
) -> None:
    async with owner_db.transaction(None) as s:
        s.add_all(
            [
                AssessmentCounters(
                    tenant_id=registry[LANGYA].id, period="2026-09", subject_type="county",
                    subject_code=LANGYA, counters=WORKED.as_dict(), rules=None,
                ),
                AssessmentCounters(
                    tenant_id=registry[YINGZHOU].id, period="2026-08", subject_type="county",
                    subject_code=YINGZHOU, counters=WORKED.as_dict(), rules=None,
                ),
            ]
        )  # fmt: skip
    assert await reader.periods(CITY) == ["2026-09"]
    assert await reader.periods(OTHER_CITY) == ["2026-08"]
    (row,) = await reader.assessments(CITY, period="2026-09", tenant=None, subject_type="county")
    assert (row.tenant, row.assessment.composite_display(), row.assessment.grade) == (
        LANGYA,
        Decimal("87.60"),
        "B",
    )
    assert await reader.assessments(OTHER_CITY, period="2026-09", tenant=None, subject_type="county") == []
    sibling = Principal("s", "nanqiao", frozenset({Role.COUNTY_ADMIN}), "/34/3411/341103/")
    assert await reader.assessments(sibling, period="2026-09", tenant=None, subject_type="county") == []
    with pytest.raises(NotFound):
        await reader.assessments(sibling, period="2026-09", tenant=LANGYA, subject_type="county")
    with pytest.raises(NotFound):
        await reader.assessments(OTHER_CITY, period="2026-09", tenant=CHUZHOU, subject_type="county")
    # the city's own row: the sum of its counties' rows (one here), scored under the city's rules
    (city,) = await reader.assessments(PROVINCE, period="2026-09", tenant=CHUZHOU, subject_type="city")
    assert (city.subject_code, city.tenant_name, city.assessment.counters) == (CHUZHOU, "滁州市", WORKED)
    assert city.assessment.grade == "B"
    trend = await reader.trend(CITY, periods=["2026-08", "2026-09"], tenant=None, subject_types=["county"])
    assert {p: [r.subject_code for r in rs] for p, rs in trend.items()} == {
        "2026-08": [],
        "2026-09": [LANGYA],
    }


async def test_places_of_the_city(reader: DatabaseReader) -> None:
    places = await reader.places(CITY)
    assert places[0].code == CHUZHOU
    assert places[0].level is TenantLevel.PREFECTURE_CITY
    assert {p.code for p in places} >= {CHUZHOU, LANGYA, NANQIAO, "341122", "341181"}
    assert all(p.code.startswith("3411") for p in places)
    assert next(p for p in places if p.code == LANGYA).parent == CHUZHOU
    assert FUYANG not in {p.code for p in await reader.places(COUNTY)}
    assert [p.code for p in await reader.places(COUNTY)] == [LANGYA]


@pytest.mark.parametrize("limit", [1, 2, 50])
async def test_the_overdue_list_is_the_oldest_across_counties_whatever_the_limit(
    app_db: Database, registry: dict[str, Tenant], case_stats: dict[str, Case], limit: int
) -> None:
    """Each county's oldest are taken first, then the oldest of those: in 滁州市 琅琊区's c4 (26.5 h
    overdue) before 南谯区's c7 (2 h), for any limit; 阜阳's c9 is not the city's."""
    from citylead.cases import stats

    city = TenantContext(registry[CHUZHOU].path)
    async with app_db.transaction(city) as s:
        found = await stats.overdue_cases(s, city, now=NOW, limit=limit)
    assert [c.number for c in found] == [f"H3-{LANGYA}-c4", f"H3-{NANQIAO}-c7"][:limit]

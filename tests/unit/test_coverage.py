"""Coverage roll-ups and velocity: pure arithmetic, hand-computed, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from citylead.coverage import (
    TenantCoverage,
    VelocityMonth,
    rollup,
    rollup_by_city,
    rollup_by_level,
    summarize,
    velocity,
)
from tenants.errors import InvalidInput
from tenants.models import TenantLevel, TenantStatus

BJ = timezone(timedelta(hours=8))
D, CC, C, CITY = (
    TenantLevel.MUNICIPAL_DISTRICT,
    TenantLevel.COUNTY_CITY,
    TenantLevel.COUNTY,
    TenantLevel.PREFECTURE_CITY,
)
LIVE, ONB, REG, SUS = (
    TenantStatus.LIVE,
    TenantStatus.ONBOARDING,
    TenantStatus.REGISTERED,
    TenantStatus.SUSPENDED,
)


def row(
    code: str,
    level: TenantLevel,
    status: TenantStatus,
    *,
    area: str | None = "100",
    grid_m2: int = 0,
    grids: int = 0,
    units: int = 0,
    cases: int = 0,
    supervisors: int = 0,
    live_since: datetime | None = None,
    city: str = "990100",
) -> TenantCoverage:
    return TenantCoverage(
        code=code,
        name=f"n{code}",
        level=level,
        status=status,
        live_since=live_since,
        area_km2=Decimal(area) if area is not None else None,
        city_code=code if level is CITY else city,
        city_name=f"n{code}" if level is CITY else f"n{city}",
        grids=grids,
        grid_m2=Decimal(grid_m2),
        units=units,
        cases_30d=cases,
        supervisors_30d=supervisors,
    )


def test_division_grid_share_is_grid_area_over_registry_area() -> None:
    r = row("990101", D, LIVE, area="232.24", grid_m2=23_224_000)
    assert (r.grid_km2, r.grid_share) == (Decimal("23.224"), 0.1)
    assert row("990102", D, LIVE, area=None, grid_m2=5).grid_share is None
    assert row("990103", D, LIVE, area="0", grid_m2=5).grid_share is None


def test_rollup_three_of_four_live_is_75_percent() -> None:
    rows = [
        row("990101", D, LIVE, area="100", grid_m2=30_000_000, grids=3, units=2, cases=5, supervisors=1),
        row("990102", D, LIVE, area="50.5", grid_m2=10_000_000, grids=1, units=1, cases=2, supervisors=2),
        row("990103", CC, LIVE, area="49.5", units=4),
        row("990121", C, ONB, area=None, cases=1),
    ]
    r = rollup("990100", "城", rows)
    assert (r.total, r.live, r.onboarding, r.registered, r.suspended) == (4, 3, 1, 0, 0)
    assert r.live_share == 0.75
    assert r.area_km2 == Decimal("200.0")  # a division without an area adds nothing
    assert (r.grid_km2, r.grid_share) == (Decimal(40), 0.2)
    assert (r.grids, r.units, r.cases_30d, r.supervisors_30d) == (4, 7, 8, 3)


def test_rollup_of_nothing_has_no_shares() -> None:
    r = rollup("x", "x", [])
    assert (r.total, r.live_share, r.grid_share) == (0, None, None)


def test_shares_round_to_four_places() -> None:
    r = rollup("x", "x", [row("1", D, LIVE), row("2", D, LIVE), row("3", D, REG, area="100")])
    assert r.live_share == 0.6667
    assert rollup("x", "x", [row("1", D, LIVE, area="3", grid_m2=1_000_000)]).grid_share == 0.3333


def test_by_city_groups_in_code_order() -> None:
    rows = [
        row("990202", D, LIVE, city="990200"),
        row("990101", D, SUS, city="990100"),
        row("990201", D, REG, city="990200"),
    ]
    out = rollup_by_city(rows)
    assert [(r.code, r.name, r.total, r.live, r.registered, r.suspended) for r in out] == [
        ("990100", "n990100", 1, 0, 0, 1),
        ("990200", "n990200", 2, 1, 1, 0),
    ]


def test_by_level_orders_city_district_countycity_county_and_skips_absent() -> None:
    divisions = [row("990121", C, LIVE), row("990101", D, LIVE), row("990102", D, ONB)]
    cities = [row("990100", CITY, LIVE), row("990200", CITY, REG)]
    out = rollup_by_level(divisions, cities)
    assert [(r.code, r.name, r.total, r.live, r.live_share) for r in out] == [
        ("prefecture_city", "地级市", 2, 1, 0.5),
        ("municipal_district", "市辖区", 2, 1, 0.5),
        ("county", "县", 1, 1, 1.0),
    ]


def test_velocity_buckets_by_beijing_month_and_accumulates_from_before_the_period() -> None:
    since = [
        datetime(2025, 6, 1, tzinfo=BJ),  # before the period: only in cumulative
        datetime(2026, 1, 5, 10, tzinfo=BJ),
        datetime(2026, 2, 28, 16, 30, tzinfo=UTC),  # 2026-03-01 00:30 in Beijing: March
        datetime(2026, 3, 31, 23, 59, tzinfo=BJ),
        datetime(2026, 4, 16, tzinfo=BJ),  # after now, same month: counted in April
        None,  # never live
    ]
    out = velocity(since, now=datetime(2026, 4, 15, 4, tzinfo=UTC), months=4)
    assert out == [
        VelocityMonth("2026-01", 1, 2),
        VelocityMonth("2026-02", 0, 2),
        VelocityMonth("2026-03", 2, 4),
        VelocityMonth("2026-04", 1, 5),
    ]


def test_velocity_crosses_the_year_and_uses_nows_beijing_month() -> None:
    # 2025-12-31 17:00 UTC is 2026-01-01 01:00 in Beijing: the series ends in January.
    out = velocity([], now=datetime(2025, 12, 31, 17, tzinfo=UTC), months=3)
    assert [m.month for m in out] == ["2025-11", "2025-12", "2026-01"]


def test_velocity_needs_a_month() -> None:
    with pytest.raises(InvalidInput):
        velocity([], now=datetime(2026, 1, 1, tzinfo=UTC), months=0)


def test_summarize_gives_cities_their_divisions_grids_and_cases_but_their_own_units() -> None:
    rows = [
        row("990100", CITY, LIVE, area="1000", units=7),
        row("990101", D, LIVE, grid_m2=2_000_000, grids=2, units=1, cases=3, supervisors=1),
        row("990102", C, REG, grid_m2=3_000_000, grids=1, units=2, cases=4, supervisors=2),
    ]
    c = summarize("990100", "城", rows, now=datetime(2026, 4, 15, tzinfo=UTC), months=1)
    assert [d.code for d in c.divisions] == ["990101", "990102"]
    (city,) = c.cities
    assert (city.grids, city.grid_km2, city.units, city.cases_30d, city.supervisors_30d) == (
        3,
        Decimal(5),
        7,
        7,
        3,
    )
    assert city.grid_share == 0.005
    assert (c.total.total, c.total.live, c.total.units) == (2, 1, 3)  # divisions only
    assert [r.code for r in c.by_level] == ["prefecture_city", "municipal_district", "county"]
    assert [r.code for r in c.by_city] == ["990100"]

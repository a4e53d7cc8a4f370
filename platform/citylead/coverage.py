"""Coverage (覆盖情况): which county-level divisions run the platform, and how far it reaches.

Per division: status, live since, grid area against the registry area, active units, cases and
active supervisors of the last 30 days. Roll-ups by city and by administrative level (the figures
the source articles quote: 地级市 73 %, 县级市 41 %, 市辖区 70 %, 县 21 %), and coverage velocity
(divisions going live per month). One statement reads every tenant in scope with its figures
(lateral aggregates on the per-tenant indexes); the roll-ups are pure functions of its rows.

"The last 30 days" are the 30 Beijing calendar days ending with the day of ``now`` (that day
included, whole): the figures come from the daily roll-up ``case_days`` (one row per county, day
and reporter, kept by triggers on ``cases``; migration 0016), so a province's coverage never reads
its cases. Supervisors (监督员) are accounts of the shared identity directory, not tenant data, so
they are counted from the cases they reported: ``supervisors_30d`` is the number of distinct
reporters of supervisor-sourced cases in those days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from citylead.cases.volume import CaseDay
from citylead.geography.models import Grid
from citylead.units.models import Unit
from tenants.context import TenantContext
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant, TenantLevel, TenantStatus
from tenants.service import access_tenant_by_code

__all__ = [
    "LEVELS",
    "WINDOW_DAYS",
    "Coverage",
    "Rollup",
    "TenantCoverage",
    "VelocityMonth",
    "get_coverage",
    "list_coverage",
    "rollup",
    "rollup_by_city",
    "rollup_by_level",
    "summarize",
    "velocity",
]

WINDOW_DAYS = 30  # "cases in the last 30 days": Beijing calendar days, the day of ``now`` the last
BEIJING = ZoneInfo("Asia/Shanghai")  # months of the velocity series are Beijing calendar months
LEVELS = (  # the order of the by-level roll-up
    TenantLevel.PREFECTURE_CITY,
    TenantLevel.MUNICIPAL_DISTRICT,
    TenantLevel.COUNTY_CITY,
    TenantLevel.COUNTY,
)
_M2_PER_KM2 = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class TenantCoverage:
    """One tenant's figures: a county-level division, or a prefecture city's own platform.

    ``city_code``/``city_name`` name the division's parent (the city; the province for divisions
    a province administers directly). For a city row grids, cases and supervisors are its
    divisions' sums, units are the city's own (city departments).
    """

    code: str
    name: str
    level: TenantLevel
    status: TenantStatus
    live_since: datetime | None
    area_km2: Decimal | None  # registry (geodesic) area
    city_code: str
    city_name: str
    grids: int = 0
    grid_m2: Decimal = Decimal(0)
    units: int = 0  # active units
    cases_30d: int = 0
    supervisors_30d: int = 0

    @property
    def grid_km2(self) -> Decimal:
        return self.grid_m2 / _M2_PER_KM2

    @property
    def grid_share(self) -> float | None:
        """Grid area / registry area, as a fraction (网格覆盖率)."""
        return _share(self.grid_km2, self.area_km2)


@dataclass(frozen=True, slots=True)
class Rollup:
    """Figures summed over a group of tenants (a city's divisions, one level, the whole scope)."""

    code: str  # the city's code, the level's value, or the scope's code
    name: str  # the city's name, the level's Chinese label, or the scope's name
    total: int
    live: int
    onboarding: int
    registered: int
    suspended: int
    area_km2: Decimal
    grid_m2: Decimal
    grids: int
    units: int
    cases_30d: int
    supervisors_30d: int

    @property
    def live_share(self) -> float | None:
        """Live / total, as a fraction (上线率)."""
        return _share(Decimal(self.live), Decimal(self.total))

    @property
    def grid_km2(self) -> Decimal:
        return self.grid_m2 / _M2_PER_KM2

    @property
    def grid_share(self) -> float | None:
        return _share(self.grid_km2, self.area_km2)


@dataclass(frozen=True, slots=True)
class VelocityMonth:
    month: str  # YYYY-MM, Beijing time
    went_live: int  # divisions whose live_since falls in the month
    cumulative: int  # divisions live_since before the month's end


@dataclass(frozen=True, slots=True)
class Coverage:
    code: str  # the scope: the caller's tenant, or the city asked for
    name: str
    now: datetime
    divisions: list[TenantCoverage]
    cities: list[TenantCoverage]  # prefecture cities inside the scope, their own platforms
    total: Rollup  # every division in scope
    by_city: list[Rollup]
    by_level: list[Rollup]
    velocity: list[VelocityMonth]


def _share(part: Decimal, whole: Decimal | None) -> float | None:
    if not whole:
        return None
    return round(float(part / whole), 4)


def rollup(code: str, name: str, rows: Iterable[TenantCoverage]) -> Rollup:
    """Sum ``rows``: counts by status, areas, grids, units, cases and supervisors."""
    rows = list(rows)
    by_status = {s: sum(1 for r in rows if r.status is s) for s in TenantStatus}
    return Rollup(
        code=code,
        name=name,
        total=len(rows),
        live=by_status[TenantStatus.LIVE],
        onboarding=by_status[TenantStatus.ONBOARDING],
        registered=by_status[TenantStatus.REGISTERED],
        suspended=by_status[TenantStatus.SUSPENDED],
        area_km2=sum((r.area_km2 or Decimal(0) for r in rows), Decimal(0)),
        grid_m2=sum((r.grid_m2 for r in rows), Decimal(0)),
        grids=sum(r.grids for r in rows),
        units=sum(r.units for r in rows),
        cases_30d=sum(r.cases_30d for r in rows),
        supervisors_30d=sum(r.supervisors_30d for r in rows),
    )


def rollup_by_city(divisions: Iterable[TenantCoverage]) -> list[Rollup]:
    """One roll-up per parent city, in code order."""
    groups: dict[str, list[TenantCoverage]] = defaultdict(list)
    for d in divisions:
        groups[d.city_code].append(d)
    return [rollup(code, groups[code][0].city_name, groups[code]) for code in sorted(groups)]


def rollup_by_level(divisions: Iterable[TenantCoverage], cities: Iterable[TenantCoverage]) -> list[Rollup]:
    """One roll-up per level present: prefecture cities (their own platforms), then the three
    division levels. The division rows partition the divisions; the city row overlaps them."""
    rows = [*cities, *divisions]
    out = []
    for level in LEVELS:
        group = [r for r in rows if r.level is level]
        if group:
            out.append(rollup(level.value, level.label, group))
    return out


def velocity(
    live_since: Iterable[datetime | None], *, now: datetime, months: int, tz: ZoneInfo = BEIJING
) -> list[VelocityMonth]:
    """Divisions going live per calendar month, the ``months`` months ending with ``now``'s,
    oldest first; ``cumulative`` counts every division live before the month's end."""
    if months < 1:
        raise InvalidInput("months must be at least 1", errors=[FieldProblem("months", ">= 1", value=months)])
    local = now.astimezone(tz)
    last = local.year * 12 + local.month - 1  # months since year 0, Beijing calendar
    first = last - months + 1
    per_month = Counter(_month_index(d, tz) for d in live_since if d is not None)
    cumulative = sum(n for m, n in per_month.items() if m < first)
    series = []
    for m in range(first, last + 1):
        cumulative += per_month[m]
        series.append(VelocityMonth(f"{m // 12:04d}-{m % 12 + 1:02d}", per_month[m], cumulative))
    return series


def _month_index(at: datetime, tz: ZoneInfo) -> int:
    local = at.astimezone(tz)
    return local.year * 12 + local.month - 1


def summarize(
    code: str, name: str, rows: Sequence[TenantCoverage], *, now: datetime, months: int
) -> Coverage:
    """Split rows into divisions and city platforms and compute every roll-up (no database)."""
    divisions = [r for r in rows if r.level.is_division]
    of_city: dict[str, list[TenantCoverage]] = defaultdict(list)
    for d in divisions:
        of_city[d.city_code].append(d)
    cities = [
        replace(
            city,
            grids=sum(d.grids for d in of_city[city.code]),
            grid_m2=sum((d.grid_m2 for d in of_city[city.code]), Decimal(0)),
            cases_30d=sum(d.cases_30d for d in of_city[city.code]),
            supervisors_30d=sum(d.supervisors_30d for d in of_city[city.code]),
        )
        for city in rows
        if city.level is TenantLevel.PREFECTURE_CITY
    ]
    return Coverage(
        code=code,
        name=name,
        now=now,
        divisions=divisions,
        cities=cities,
        total=rollup(code, name, divisions),
        by_city=rollup_by_city(divisions),
        by_level=rollup_by_level(divisions, cities),
        velocity=velocity((d.live_since for d in divisions), now=now, months=months),
    )


async def list_coverage(
    session: AsyncSession, scope: TenantContext, *, now: datetime
) -> list[TenantCoverage]:
    """Every city and division in ``scope``'s subtree with its figures, in tree order: one
    statement. Row-level security limits it too; cities come back with their own units only."""
    if now.tzinfo is None:
        raise InvalidInput("now must be timezone-aware")
    parent = aliased(Tenant)
    grids = (
        select(func.count().label("grids"), func.coalesce(func.sum(Grid.area_m2), 0).label("grid_m2"))
        .where(Grid.tenant_id == Tenant.id)
        .lateral("g")
    )
    units = select(func.count().label("units")).where(Unit.tenant_id == Tenant.id, Unit.active).lateral("u")
    last = now.astimezone(BEIJING).date()
    cases = (
        select(
            func.coalesce(func.sum(CaseDay.cases), 0).label("cases"),
            func.count(distinct(CaseDay.reporter)).filter(CaseDay.reporter != "").label("supervisors"),
        )
        .where(
            CaseDay.tenant_id == Tenant.id,
            CaseDay.day > last - timedelta(days=WINDOW_DAYS),
            CaseDay.day <= last,
        )
        .lateral("c")
    )
    query = (
        select(
            Tenant.code,
            Tenant.name,
            Tenant.level,
            Tenant.status,
            Tenant.live_since,
            Tenant.area_km2,
            parent.code.label("parent_code"),
            parent.name.label("parent_name"),
            grids.c.grids,
            grids.c.grid_m2,
            units.c.units,
            cases.c.cases,
            cases.c.supervisors,
        )
        .join(parent, Tenant.parent_id == parent.id)
        .join(grids, true())
        .join(units, true())
        .join(cases, true())
        .where(Tenant.path.op("^@")(scope.path), Tenant.level != TenantLevel.PROVINCE)
        .order_by(Tenant.path)
    )
    out = []
    for row in await session.execute(query):
        city = row.level is TenantLevel.PREFECTURE_CITY
        out.append(
            TenantCoverage(
                code=row.code,
                name=row.name,
                level=row.level,
                status=row.status,
                live_since=row.live_since,
                area_km2=row.area_km2,
                city_code=row.code if city else row.parent_code,
                city_name=row.name if city else row.parent_name,
                grids=row.grids,
                grid_m2=Decimal(row.grid_m2),
                units=row.units,
                cases_30d=row.cases,
                supervisors_30d=row.supervisors,
            )
        )
    return out


async def get_coverage(
    session: AsyncSession,
    scope: TenantContext,
    *,
    now: datetime,
    months: int = 12,
    city: str | None = None,
) -> Coverage:
    """Coverage of ``scope``'s subtree, or of ``city`` (a prefecture city inside it: else the same
    NotFound as a missing one). ``now`` ends the 30-day window and the velocity series."""
    target = (await access_tenant_by_code(session, scope, city or scope.code)).tenant
    if city is not None and target.level is not TenantLevel.PREFECTURE_CITY:
        rule = "must be a prefecture city (地级市)"
        raise InvalidInput(
            f"{target.name} ({target.code}) is not a prefecture city",
            errors=[FieldProblem("city", rule, value=city)],
        )
    rows = await list_coverage(session, TenantContext(target.path), now=now)
    return summarize(target.code, target.name, rows, now=now, months=months)

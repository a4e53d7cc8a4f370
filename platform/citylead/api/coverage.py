"""``/api/v1/coverage``: coverage of the caller's subtree (覆盖情况) — per division, by city, by
level, and velocity. A province supervisor sees the province, a city its city, a county itself."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from citylead.coverage import Coverage, Rollup, TenantCoverage, VelocityMonth, get_coverage
from citylead.db import Database
from citylead.identity.principal import Principal
from tenants.models import TenantLevel, TenantStatus

__all__ = ["CoverageController", "CoverageOut"]

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]


def _km2(value: Decimal) -> float:
    return round(float(value), 4)


class DivisionOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    level: TenantLevel
    level_label: str
    city_code: str
    city_name: str
    status: TenantStatus
    status_label: str
    live_since: datetime | None
    area_km2: float | None
    grid_km2: float
    grids: int
    grid_share: float | None
    units: int
    cases_30d: int
    supervisors_30d: int

    @classmethod
    def of(cls, r: TenantCoverage) -> DivisionOut:
        return cls(
            code=r.code,
            name=r.name,
            level=r.level,
            level_label=r.level.label,
            city_code=r.city_code,
            city_name=r.city_name,
            status=r.status,
            status_label=r.status.label,
            live_since=r.live_since,
            area_km2=_km2(r.area_km2) if r.area_km2 is not None else None,
            grid_km2=_km2(r.grid_km2),
            grids=r.grids,
            grid_share=r.grid_share,
            units=r.units,
            cases_30d=r.cases_30d,
            supervisors_30d=r.supervisors_30d,
        )


class RollupOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    total: int
    live: int
    onboarding: int
    registered: int
    suspended: int
    live_share: float | None
    area_km2: float
    grid_km2: float
    grids: int
    grid_share: float | None
    units: int
    cases_30d: int
    supervisors_30d: int

    @classmethod
    def of(cls, r: Rollup) -> RollupOut:
        return cls(
            code=r.code,
            name=r.name,
            total=r.total,
            live=r.live,
            onboarding=r.onboarding,
            registered=r.registered,
            suspended=r.suspended,
            live_share=r.live_share,
            area_km2=_km2(r.area_km2),
            grid_km2=_km2(r.grid_km2),
            grids=r.grids,
            grid_share=r.grid_share,
            units=r.units,
            cases_30d=r.cases_30d,
            supervisors_30d=r.supervisors_30d,
        )


class VelocityOut(msgspec.Struct, kw_only=True):
    month: str
    went_live: int
    cumulative: int

    @classmethod
    def of(cls, v: VelocityMonth) -> VelocityOut:
        return cls(month=v.month, went_live=v.went_live, cumulative=v.cumulative)


class CoverageOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    as_of: datetime
    cities: int  # prefecture-level groups the divisions fall in
    total: RollupOut
    divisions: list[DivisionOut]
    by_city: list[RollupOut]
    by_level: list[RollupOut]
    velocity: list[VelocityOut]

    @classmethod
    def of(cls, c: Coverage) -> CoverageOut:
        return cls(
            code=c.code,
            name=c.name,
            as_of=c.now,
            cities=len(c.by_city),
            total=RollupOut.of(c.total),
            divisions=[DivisionOut.of(d) for d in c.divisions],
            by_city=[RollupOut.of(r) for r in c.by_city],
            by_level=[RollupOut.of(r) for r in c.by_level],
            velocity=[VelocityOut.of(v) for v in c.velocity],
        )


class CoverageController(Controller):
    path = "/coverage"
    tags = ["coverage"]  # noqa: RUF012

    @get("/", summary="Coverage of your subtree: divisions, by city, by level, velocity")
    async def coverage(
        self,
        db: Db,
        principal: Caller,
        city: Annotated[
            str | None, QueryParameter(pattern=r"^[0-9]{6}$", description="a prefecture city's code")
        ] = None,
        months: Annotated[int, QueryParameter(ge=1, le=120, description="velocity months")] = 12,
    ) -> CoverageOut:
        now = datetime.now(UTC)
        async with db.transaction(principal.context) as s:
            result = await get_coverage(s, principal.context, now=now, months=months, city=city)
        return CoverageOut.of(result)

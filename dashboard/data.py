"""What the dashboard reads (数据读取): coverage, scored assessments, case statistics, the tenants.

The dashboard never queries tables of its own: a reader wraps ``citylead`` query functions
(``coverage.get_coverage``, ``assessment.results.list_assessments``, ``cases.stats``) and reads
the registry's tenants, always in the caller's tenant context, so row-level security keeps a city
administrator inside their city. Each call is one short transaction. Pages take a reader; tests
pass a fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from citylead.assessment.cache import ScoredCache
from citylead.assessment.models import AssessmentCounters
from citylead.assessment.results import Result, list_assessments
from citylead.assessment.rollup import Period
from citylead.cases import stats
from citylead.coverage import Coverage, get_coverage
from citylead.db import Database
from citylead.identity.principal import Principal
from dashboard.boundaries import CACHE
from tenants.models import Tenant, TenantLevel
from tenants.service import access_tenant_or_own
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver

__all__ = [
    "CaseClocks",
    "CaseVolume",
    "CasesReader",
    "CoverageReader",
    "DashboardReader",
    "DatabaseReader",
    "PerformanceReader",
    "Place",
]


@dataclass(frozen=True)
class Place:
    """A tenant of the caller's subtree (own tenant included), for names and drill-down."""

    code: str
    name: str
    level: TenantLevel
    parent: str | None  # the parent's code; None for a province


@dataclass(frozen=True)
class CaseVolume:
    by_class: list[stats.ClassVolume]
    by_grid: list[stats.GridVolume]


@dataclass(frozen=True)
class CaseClocks:
    lights: list[stats.CountyLights]
    overdue: list[stats.OverdueCase]


class CoverageReader(Protocol):
    async def coverage(self, principal: Principal, *, now: datetime, city: str | None) -> Coverage: ...

    async def places(self, principal: Principal) -> list[Place]: ...

    async def boundary_stamps(self, principal: Principal, codes: Sequence[str]) -> dict[str, str]: ...

    async def boundaries(self, principal: Principal, codes: Sequence[str]) -> dict[str, dict[str, Any]]: ...


class PerformanceReader(Protocol):
    async def places(self, principal: Principal) -> list[Place]: ...

    async def periods(self, principal: Principal) -> list[str]: ...

    async def assessments(
        self, principal: Principal, *, period: str, tenant: str | None, subject_type: str | None
    ) -> list[Result]: ...

    async def trend(
        self,
        principal: Principal,
        *,
        periods: Sequence[str],
        tenant: str | None,
        subject_types: Sequence[str],
    ) -> dict[str, list[Result]]: ...


class CasesReader(Protocol):
    async def places(self, principal: Principal) -> list[Place]: ...

    async def case_volume(
        self, principal: Principal, *, since: date, until: date, tenant: str | None
    ) -> CaseVolume: ...

    async def case_clocks(self, principal: Principal, *, now: datetime, tenant: str | None) -> CaseClocks: ...


class DashboardReader(CoverageReader, PerformanceReader, CasesReader, Protocol):
    """Everything the three pages read."""


class DatabaseReader:
    """The real reader: one short transaction per call, in the principal's own context."""

    def __init__(
        self,
        db: Database,
        *,
        months: int = 12,
        resolver: Resolver | None = None,
        scored: ScoredCache | None = None,
    ) -> None:
        self._db = db
        self._months = months
        self._resolver = resolver or Resolver()
        self._scored = scored or ScoredCache()

    async def coverage(self, principal: Principal, *, now: datetime, city: str | None) -> Coverage:
        async with self._db.transaction(principal.context) as s:
            return await get_coverage(s, principal.context, now=now, months=self._months, city=city)

    async def boundary_stamps(self, principal: Principal, codes: Sequence[str]) -> dict[str, str]:
        """Code → a fingerprint of the row, for each of ``codes`` inside the principal's subtree
        that has a boundary: what the map's boundary URL is versioned by (no geometry is read)."""
        if not codes:
            return {}
        async with self._db.transaction(principal.context) as s:
            stamps = await _boundary_stamps(s, principal, codes)
        return {code: f"{version}@{at.isoformat()}" for code, (version, at) in stamps.items()}

    async def boundaries(self, principal: Principal, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Simplified GeoJSON geometries of ``codes`` inside the principal's subtree (others are left
        out), from the process's cache (``dashboard.boundaries``): only the boundaries not cached at
        their row's version are read and simplified."""
        if not codes:
            return {}
        scope = principal.context
        in_scope = (Tenant.path.op("^@")(scope.path), Tenant.boundary.is_not(None))
        out: dict[str, dict[str, Any]] = {}
        async with self._db.transaction(scope) as s:
            stamps = await _boundary_stamps(s, principal, codes)
            for code, stamp in stamps.items():
                if (cached := CACHE.get(code, stamp)) is not None:
                    out[code] = cached
            if missing := [code for code in stamps if code not in out]:
                query = select(Tenant.code, Tenant.boundary).where(*in_scope, Tenant.code.in_(missing))
                for code, boundary in (await s.execute(query)).all():
                    out[code] = CACHE.put(code, stamps[code], boundary)
        return out

    async def places(self, principal: Principal) -> list[Place]:
        """The principal's tenant and every tenant below it, in code order."""
        scope = principal.context
        parent = aliased(Tenant)
        query = (
            select(Tenant.code, Tenant.name, Tenant.level, parent.code)
            .outerjoin(parent, parent.id == Tenant.parent_id)
            .where(Tenant.path.op("^@")(scope.path))
            .order_by(Tenant.code)
        )
        async with self._db.transaction(scope) as s:
            rows = (await s.execute(query)).all()
        return [Place(code, name, level, up) for code, name, level, up in rows]

    async def periods(self, principal: Principal) -> list[str]:
        """The months with stored counters in the principal's subtree, newest first."""
        scope = principal.context
        query = (
            select(AssessmentCounters.period)
            .distinct()
            .join(Tenant, Tenant.id == AssessmentCounters.tenant_id)
            .where(
                Tenant.path.op("^@")(scope.path),
                AssessmentCounters.subject_type == "county",
                AssessmentCounters.period.like("____-__"),
            )
            .order_by(AssessmentCounters.period.desc())
        )
        async with self._db.transaction(scope) as s:
            return list(await s.scalars(query))

    async def assessments(
        self, principal: Principal, *, period: str, tenant: str | None, subject_type: str | None
    ) -> list[Result]:
        async with self._db.transaction(principal.context) as s:
            return await list_assessments(
                s,
                principal.context,
                period=Period.parse(period),
                resolver=self._resolver,
                subject_type=subject_type,
                tenant_code=tenant,
            )

    async def trend(
        self,
        principal: Principal,
        *,
        periods: Sequence[str],
        tenant: str | None,
        subject_types: Sequence[str],
    ) -> dict[str, list[Result]]:
        """Each period's rows of ``subject_types``, in one transaction: the periods unchanged since
        they were last scored come from the process's cache (``assessment.cache``), the others
        from one counters query."""
        async with self._db.transaction(principal.context) as s:
            return await self._scored.many(
                s,
                principal.context,
                periods=[Period.parse(label) for label in periods],
                resolver=self._resolver,
                subject_types=subject_types,
                tenant_code=tenant,
            )

    async def case_volume(
        self, principal: Principal, *, since: date, until: date, tenant: str | None
    ) -> CaseVolume:
        scope = principal.context
        async with self._db.transaction(scope) as s:
            target = await access_tenant_or_own(s, scope, tenant)
            catalog = await self._resolver.effective(s, target, Kind.CATALOG)
            by_class = await stats.volume_by_class(
                s, scope, since=since, until=until, catalog=catalog, tenant_code=tenant
            )
            by_grid = await stats.volume_by_grid(s, scope, since=since, until=until, tenant_code=tenant)
        return CaseVolume(by_class, by_grid)

    async def case_clocks(self, principal: Principal, *, now: datetime, tenant: str | None) -> CaseClocks:
        scope = principal.context
        async with self._db.transaction(scope) as s:
            lights = await stats.timer_lights(s, scope, now=now, tenant_code=tenant)
            overdue = await stats.overdue_cases(s, scope, now=now, tenant_code=tenant)
        return CaseClocks(lights, overdue)


async def _boundary_stamps(
    session: AsyncSession, principal: Principal, codes: Sequence[str]
) -> dict[str, tuple[int, datetime]]:
    """Code → (version, updated_at) of each of ``codes`` in the principal's subtree with a boundary."""
    query = select(Tenant.code, Tenant.version, Tenant.updated_at).where(
        Tenant.path.op("^@")(principal.context.path),
        Tenant.boundary.is_not(None),
        Tenant.code.in_(list(codes)),
    )
    return {code: (version, at) for code, version, at in (await session.execute(query)).all()}

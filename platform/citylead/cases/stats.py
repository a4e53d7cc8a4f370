"""Case statistics for the dashboard (案件统计): volume by class and by grid, the timer lights,
the overdue list — for a tenant of the caller's subtree and the counties below it.

Every function runs in the caller's transaction and context: row-level security keeps a city
administrator inside their city, and each query also names the target's subtree explicitly
(``tenants.path``), so a case another county's unit holds never counts here. ``tenant_code``
outside the scope is NotFound, like a missing one.

Speed (5 million cases province-wide): volumes read the monthly roll-up ``case_volume``
(``citylead.cases.volume``), never ``cases``; the lights and the overdue list read only the cases
whose clock runs, through the partial index ``ix_cases_running``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.models import Case
from citylead.cases.queries import LIGHTS, light_is, light_of_running
from citylead.cases.volume import CaseVolume
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.service import access_tenant_or_own
from tenants.standards.layers import Effective

__all__ = [
    "KIND_LABELS",
    "LIGHT_LABELS",
    "ClassVolume",
    "CountyLights",
    "GridVolume",
    "OverdueCase",
    "overdue_cases",
    "timer_lights",
    "volume_by_class",
    "volume_by_grid",
]

KIND_LABELS = {"component": "部件", "matter": "事件"}
LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯（超期）", "paused": "暂停计时"}


@dataclass(frozen=True)
class ClassVolume:
    """Cases of one class (小类) in the period; ``major`` is its 大类 (the code's first two digits)."""

    kind: str
    class_code: str
    class_name: str
    major_code: str
    major_name: str
    cases: int


@dataclass(frozen=True)
class GridVolume:
    county_code: str
    county_name: str
    grid_code: str  # "" for cases outside every grid
    cases: int


@dataclass(frozen=True)
class CountyLights:
    """Open cases with a clock by light, now (当前计时灯), in one county."""

    code: str
    name: str
    green: int
    yellow: int
    red: int  # past due_at: overdue
    paused: int  # parked (挂账): no deadline while parked

    @property
    def total(self) -> int:
        return self.green + self.yellow + self.red + self.paused


@dataclass(frozen=True)
class OverdueCase:
    county_code: str
    county_name: str
    number: str
    kind: str
    class_code: str
    class_name: str
    address: str | None
    grid_code: str | None
    step: str | None  # the running clock: verify | dispose | check
    unit_name: str | None
    due_at: datetime
    hours_overdue: float  # clock hours since due_at, 1 decimal


def _below(column: Any, target: Tenant) -> ColumnElement[bool]:
    found: ColumnElement[bool] = column.in_(select(Tenant.id).where(Tenant.path.startswith(target.path)))
    return found


def _names(catalog: Effective, kind: str, code: str) -> str:
    name = catalog.value(f"catalog/{kind}/{code}/name")
    return name if isinstance(name, str) else code


def _months(since: date, until: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return CaseVolume.month >= since, CaseVolume.month < until


async def volume_by_class(
    session: AsyncSession,
    scope: TenantContext,
    *,
    since: date,
    until: date,
    catalog: Effective,
    tenant_code: str | None = None,
) -> list[ClassVolume]:
    """Cases reported in the months ``[since, until)`` (first days of Beijing months) by class,
    most first (then by kind and code).

    ``catalog`` is the target's effective catalogue (``catalog/matter/06/name`` names the 大类 06);
    a code without a name shows as its code."""
    target = await access_tenant_or_own(session, scope, tenant_code)
    total = func.sum(CaseVolume.cases)
    rows = (
        await session.execute(
            select(CaseVolume.kind, CaseVolume.code, total)
            .where(_below(CaseVolume.tenant_id, target), CaseVolume.axis == "class", *_months(since, until))
            .group_by(CaseVolume.kind, CaseVolume.code)
            .order_by(total.desc(), CaseVolume.kind, CaseVolume.code)
        )
    ).all()
    return [
        ClassVolume(
            kind,
            code,
            _names(catalog, kind, code),
            code[:2],
            _names(catalog, kind, code[:2]),
            int(n),
        )
        for kind, code, n in rows
    ]


async def volume_by_grid(
    session: AsyncSession,
    scope: TenantContext,
    *,
    since: date,
    until: date,
    tenant_code: str | None = None,
    limit: int = 20,
) -> list[GridVolume]:
    """The ``limit`` grids with most cases reported in the months ``[since, until)``, most first."""
    target = await access_tenant_or_own(session, scope, tenant_code)
    total = func.sum(CaseVolume.cases)
    rows = (
        await session.execute(
            select(Tenant.code, Tenant.name, CaseVolume.code, total)
            .join(Tenant, Tenant.id == CaseVolume.tenant_id)
            .where(Tenant.path.startswith(target.path), CaseVolume.axis == "grid", *_months(since, until))
            .group_by(Tenant.code, Tenant.name, CaseVolume.code)
            .order_by(total.desc(), Tenant.code, CaseVolume.code)
            .limit(limit)
        )
    ).all()
    return [GridVolume(code, name, grid, int(n)) for code, name, grid, n in rows]


async def timer_lights(
    session: AsyncSession, scope: TenantContext, *, now: datetime, tenant_code: str | None = None
) -> list[CountyLights]:
    """The open cases with a clock, by county and light at ``now`` (the lights of
    ``citylead.cases.queries.light_is``); counties with none are left out; in code order."""
    target = await access_tenant_or_own(session, scope, tenant_code)
    # the WHERE keeps the running clocks; the lights then read only the index's columns
    counts = [func.count().filter(light_of_running(light, now)) for light in LIGHTS]
    rows = (
        await session.execute(
            select(Tenant.code, Tenant.name, *counts)
            .join(Tenant, Tenant.id == Case.tenant_id)
            .where(Case.step.is_not(None), Tenant.path.startswith(target.path))
            .group_by(Tenant.code, Tenant.name)
            .order_by(Tenant.code)
        )
    ).all()
    return [CountyLights(code, name, *(int(n) for n in ns)) for code, name, *ns in rows]


async def overdue_cases(
    session: AsyncSession,
    scope: TenantContext,
    *,
    now: datetime,
    tenant_code: str | None = None,
    limit: int = 50,
) -> list[OverdueCase]:
    """The open cases whose running clock is past its deadline (red), oldest deadline first.

    Each county's ``limit`` oldest come first (``ix_cases_running`` in deadline order, so a county
    with thousands overdue stops after ``limit``), then the ``limit`` oldest of those are read whole:
    a province never reads every overdue case."""
    target = await access_tenant_or_own(session, scope, tenant_code)
    oldest = (
        select(Case.tenant_id, Case.id, Case.due_at, Case.number)
        .where(Case.tenant_id == Tenant.id, light_is("red", now))
        .order_by(Case.due_at, Case.number)
        .limit(limit)
        .lateral("oldest")
    )
    top = (
        select(oldest.c.tenant_id, oldest.c.id)
        .select_from(Tenant)
        .join(oldest, true())
        .where(Tenant.path.startswith(target.path))
        .order_by(oldest.c.due_at, oldest.c.number)
        .limit(limit)
        .subquery("top")
    )
    rows = (
        await session.execute(
            select(Case, Tenant.code, Tenant.name)
            .join(top, and_(Case.tenant_id == top.c.tenant_id, Case.id == top.c.id))
            .join(Tenant, Tenant.id == Case.tenant_id)
            .order_by(Case.due_at, Case.number)
        )
    ).all()
    out = []
    for case, code, name in rows:
        assert case.due_at is not None  # red: due_at < now
        hours = round((now - case.due_at).total_seconds() / 3600, 1)
        out.append(
            OverdueCase(
                code,
                name,
                case.number,
                case.kind,
                case.class_code,
                case.class_name,
                case.address,
                case.grid_code,
                case.step,
                case.unit_name,
                case.due_at,
                hours,
            )
        )
    return out

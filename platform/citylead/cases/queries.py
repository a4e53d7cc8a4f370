"""Reading cases in the actor's reach: the filtered, paginated list (案卷查询)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.access import Actor, in_reach
from citylead.cases.models import Case
from tenants.models import Tenant

__all__ = ["LIGHTS", "CaseFilter", "CasePage", "light_is", "light_of_running", "list_cases"]

LIGHTS = ("green", "yellow", "red", "paused")


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    light: str | None = None
    kind: str | None = None
    code: str | None = None
    grid: str | None = None
    street: str | None = None
    unit: tuple[str, str] | None = None  # (tenant code, unit code)
    source: str | None = None
    since: datetime | None = None  # reported at or after
    until: datetime | None = None  # reported before
    county: str | None = None


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    total: int
    page: int
    page_size: int


def light_is(light: str, now: datetime) -> ColumnElement[bool]:
    """The timer light in SQL: exact at the stored instants (due_at, warn_at) of the running clock."""
    return and_(Case.step.is_not(None), light_of_running(light, now))


def light_of_running(light: str, now: datetime) -> ColumnElement[bool]:
    """:func:`light_is` for rows already known to run a clock (``step`` set): it reads only
    ``due_at`` and ``warn_at``, so counting lights can be an index-only scan of ``ix_cases_running``."""
    if light == "paused":
        return Case.due_at.is_(None)
    if light == "red":
        return Case.due_at < now
    if light == "yellow":
        return and_(Case.warn_at <= now, Case.due_at >= now)
    return Case.warn_at > now


async def list_cases(
    session: AsyncSession, actor: Actor, f: CaseFilter, *, now: datetime, page: int = 1, page_size: int = 50
) -> CasePage:
    query = select(Case).where(in_reach(actor))
    for column, value in (
        (Case.state, f.state),
        (Case.kind, f.kind),
        (Case.class_code, f.code),
        (Case.grid_code, f.grid),
        (Case.street_code, f.street),
        (Case.source, f.source),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.light is not None:
        query = query.where(light_is(f.light, now))
    if f.since is not None:
        query = query.where(Case.reported_at >= f.since)
    if f.until is not None:
        query = query.where(Case.reported_at < f.until)
    if f.county is not None:
        query = query.where(
            Case.tenant_id == select(Tenant.id).where(Tenant.code == f.county).scalar_subquery()
        )
    if f.unit is not None:
        unit_tenant = select(Tenant.id).where(Tenant.code == f.unit[0]).scalar_subquery()
        query = query.where(Case.unit_tenant_id == unit_tenant, Case.unit_code == f.unit[1])
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(
        query.order_by(Case.reported_at.desc(), Case.id).limit(page_size).offset((page - 1) * page_size)
    )
    return CasePage(list(rows), int(total or 0), page, page_size)

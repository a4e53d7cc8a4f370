"""The monthly case volume roll-up (案件量月汇总): cases reported per county and Beijing month, by
class and by grid.

The dashboard's volume figures read this small table instead of ``cases`` (5 million rows
province-wide). Each county and month has one row per class (``axis = 'class'``: ``kind`` +
``code``, the class code) and one row per grid (``axis = 'grid'``: ``code``, the grid code, ``""``
for cases outside every grid; ``kind`` is ``""``), so a county-month is a few hundred rows
however many cases it had. (A row per day, class *and* grid would be about as many rows as
cases: a county's grids times classes is larger than its monthly intake.) Months are
Asia/Shanghai calendar months of ``reported_at``; the dashboard's periods (month, quarter, year)
are whole months.

``do_refresh_volume`` recounts a county's months from ``cases`` and replaces their rows (deleted
and inserted, never updated), so a refresh is idempotent; the job ``cases.refresh_stats`` runs it
for one county, every live division below a city or province, or (scheduled) every live
division. The table is tenant-owned: the county writes its rows, its city and province read them
(migration 0014).

Also here: ``ix_cases_running``, the partial index of the cases whose clock runs (``step`` set),
which the timer lights and the overdue list (``citylead.cases.stats``) read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from citylead.assessment.rollup import Period
from citylead.cases.models import Case
from citylead.jobs.registry import JobContext, job
from tenants.audit import record
from tenants.context import TenantContext
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.orm import Base

__all__ = [
    "AXES",
    "JOBS",
    "RUNNING_INDEX",
    "CaseDay",
    "CaseVolume",
    "VolumeReport",
    "do_refresh_volume",
    "months_due",
    "refresh_stats",
]

SH = ZoneInfo("Asia/Shanghai")


AXES = ("class", "grid")


class CaseVolume(Base):
    """Cases reported in one county in one month, by one class or one grid."""

    __tablename__ = "case_volume"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the month's first day (Beijing)
    axis: Mapped[str] = mapped_column(String(8), primary_key=True)  # class | grid
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # component | matter; "" for grids
    code: Mapped[str] = mapped_column(String(15), primary_key=True)  # class or grid code ("" outside)
    cases: Mapped[int] = mapped_column(Integer)

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="RESTRICT"),)


class CaseDay(Base):
    """Cases reported in one county on one Beijing day by one supervisor (``reporter``: their
    username; ``""`` for every other source): coverage's 30-day activity (案件日汇总). Kept by
    triggers on ``cases`` (migration 0016), never written by the application."""

    __tablename__ = "case_days"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reporter: Mapped[str] = mapped_column(String(255), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="RESTRICT"),)


# The cases with a running clock (计时中): the lights and the overdue list read only these, and
# the included columns answer the read policy (holder and unit) without visiting the table.
RUNNING_INDEX = Index(
    "ix_cases_running",
    Case.tenant_id,
    Case.due_at,
    postgresql_where=Case.step.is_not(None),
    postgresql_include=["warn_at", "command_tenant_id", "unit_tenant_id"],
)


@dataclass(frozen=True)
class VolumeReport:
    county: str
    period: str
    rows: int
    cases: int


async def do_refresh_volume(
    session: AsyncSession, county: Tenant, period: Period, *, acting_user: str
) -> VolumeReport:
    """Recount the county's cases reported in ``period`` (its months) into ``case_volume``,
    replacing those months' rows, in the caller's transaction (in the county's context)."""
    month = func.date_trunc("month", func.timezone("Asia/Shanghai", Case.reported_at)).cast(Date)
    window = (Case.tenant_id == county.id, Case.reported_at >= period.start, Case.reported_at < period.end)
    grid = func.coalesce(Case.grid_code, "")
    by_class = (
        select(Case.tenant_id, month, literal("class"), Case.kind, Case.class_code, func.count())
        .where(*window)
        .group_by(Case.tenant_id, month, Case.kind, Case.class_code)
    )
    by_grid = (
        select(Case.tenant_id, month, literal("grid"), literal(""), grid, func.count())
        .where(*window)
        .group_by(Case.tenant_id, month, grid)
    )
    await session.execute(
        delete(CaseVolume).where(
            CaseVolume.tenant_id == county.id,
            CaseVolume.month >= period.start.date(),
            CaseVolume.month < period.end.date(),
        )
    )
    columns = ["tenant_id", "month", "axis", "kind", "code", "cases"]
    sizes: dict[str, list[int]] = {}
    for axis, counted in (("class", by_class), ("grid", by_grid)):
        inserted = await session.execute(
            insert(CaseVolume).from_select(columns, counted).returning(CaseVolume.cases)
        )
        sizes[axis] = list(inserted.scalars())
    report = VolumeReport(county.code, period.label, sum(map(len, sizes.values())), sum(sizes["class"]))
    await record(
        session,
        county.id,
        actor=acting_user,
        action="cases.refresh_stats",
        subject=f"{county.code}/{period.label}",
        rows=report.rows,
        cases=report.cases,
    )
    return report


def months_due(scheduled_at: datetime) -> list[Period]:
    """The months a scheduled refresh recounts: the month of ``scheduled_at`` (Beijing), and on a
    month's first day the month before too (reports filed just before midnight)."""
    local = scheduled_at.astimezone(SH)
    months = [Period.parse(f"{local:%Y-%m}")]
    if local.day == 1:
        months.append(Period.parse(f"{local - timedelta(days=1):%Y-%m}"))
    return months


@job("cases.refresh_stats", queue="default", max_retries=3, time_limit_ms=30 * 60_000)
async def refresh_stats(
    ctx: JobContext,
    *,
    tenant_path: str | None = None,
    scheduled_at: str | None = None,
    period: str | None = None,
    actor: str = "system:case-stats",
) -> None:
    """Recount the monthly volume of one county, or of every live division below a city or
    province, or (no ``tenant_path``: the scheduler's message) of every live division; each county
    in its own transaction and context. ``period`` (a month, quarter or year) or else the months
    due at ``scheduled_at`` (else now). Idempotent: the months' rows are replaced, so a message
    delivered twice gives the same rows."""
    from citylead.assessment.runs import live_counties
    from citylead.assessment.schedule import PROVINCES

    at = datetime.fromisoformat(scheduled_at) if scheduled_at else datetime.now(SH)
    periods = [Period.parse(period)] if period else months_due(at)
    scopes = [tenant_path] if tenant_path else [f"/{pp}/" for pp in PROVINCES]
    counties: list[Tenant] = []
    for path in scopes:
        async with ctx.transaction(path) as s:
            tenant = await s.scalar(select(Tenant).where(Tenant.path == path))
        if tenant is not None and tenant.level.is_division:
            counties.append(tenant)
        elif tenant is not None:
            counties += await live_counties(ctx.db, TenantContext(path))
        elif tenant_path:
            problem = FieldProblem("tenant_path", "a tenant's path", tenant_path)
            raise InvalidInput("unknown tenant", errors=[problem])
    for county in counties:
        async with ctx.transaction(county.path) as s:
            for each in periods:
                await do_refresh_volume(s, county, each, acting_user=actor)


JOBS = (refresh_stats,)

"""Counting case events into counters (考核计数汇总): one county, one period, every subject.

A period is a month ``2026-10``, a quarter ``2026Q4`` or a year ``2026``, in Asia/Shanghai time.
Subjects: the county, each street and grid (the case's place), each department unit (``TENANT:UNIT``,
the unit a disposal clock ran for) and each post by username (``supervisor``, ``intake``,
``shift_lead``, ``dispatcher``: the event's ``actor`` and ``actor_role``).

Attribution — a case counts in the period of the event that makes the counter:

- ``reports``: a supervisor's ``report`` events (source supervisor); an intake operator's
  ``accept``, ``send_verify`` and ``refuse`` events (受理登记). ``valid_reports``: of those, cases
  with a ``file`` event and no ``void`` (as of the refresh). Regions count both kinds.
- ``filed``: ``file`` events (shift lead, regions); ``voided``: of those, cases with a ``void``;
  ``missed_reports`` (regions only): of those, cases reported by a public source;
  ``filed_on_time``: of those, filed at or before the filing deadline (立案时限) that the event
  making the case ready to file pinned (``report`` of a supervisor, ``accept``, ``verify``).
- ``verify_due`` / ``check_due``: ``send_verify`` / ``send_check`` tasks whose ``due_at`` falls in the
  period; ``…_on_time``: answered (``verify``/``verify_false``, ``check_pass``/``check_fail``) at or
  before it. The supervisor who answered is the post; unanswered tasks count for regions only.
- ``dispatched``: ``dispatch`` events (dispatcher, regions); ``dispatched_on_time``: of those, at
  or before the dispatch deadline (派遣时限) pinned by the last event that put the case in a
  dispatch queue (``file``, ``approve_return``, ``escalate``, ``send_back``);
  ``returned_wrong_unit``: of those, the ones followed by an ``approve_return`` or ``redispatch``
  on the same case. A filing or dispatch whose step pinned no deadline (history written before
  those limits existed) counts on time.
- Disposal clocks: each ``dispatch``, ``redispatch`` or ``check_fail`` starts one, for the unit
  then assigned; ``approve_postpone`` and ``resume`` move its ``due_at``; the next ``dispose``,
  ``redispatch``, ``approve_return`` or ``check_fail`` ends it. ``due_for_disposal``: clocks whose
  final ``due_at`` falls in the period (a parked clock has none), leaving out clocks ended by
  ``redispatch`` or ``approve_return`` (the wrong unit's: counted as ``returned_wrong_unit``);
  ``disposed``: ended by
  ``dispose``; ``disposed_on_time``: that ``dispose`` was not overdue; ``postponed``: an
  ``approve_postpone`` inside it; ``overdue_pending``: not disposed by the period's end.
- Closing: a case is ``due_to_close`` in the period of its **last** disposal clock's ``due_at``;
  ``closed``: it has a ``close``; ``closed_on_time``: closing type ``normal``;
  ``deferred_approved``: it had an ``approve_postpone``; ``deferred_closed_on_time``: both;
  ``rework``: of ``due_to_close``, cases with a ``check_fail``; ``reworked_disposals``: of the
  ``disposed`` clocks, those whose disposal a ``check_fail`` rejected.
- ``volume``: a region's ``file`` events, a department's disposal clocks started in the period, a
  post's own events in the period (a supervisor's ``report`` events included).

How: each case's events become a few facts (``citylead.assessment.facts``), rebuilt only when
events are added to the case (``citylead.assessment.fact_store``); a period's counters are the
sums of the facts placed in it, computed in SQL (``count_period``). Nothing is queried per case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.assessment.counters import Counters
from citylead.assessment.fact_store import update_facts
from citylead.assessment.facts import COUNTERS, DEPARTMENT_COUNTERS, POST_COUNTERS, REGION_COUNTERS
from citylead.assessment.models import AssessmentCounters
from citylead.jobs.registry import JobContext, job
from tenants.audit import record
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver, format_vector

__all__ = [
    "JOBS",
    "SUBJECT_KINDS",
    "Period",
    "RefreshReport",
    "SubjectKey",
    "count_period",
    "do_refresh",
    "refresh",
]

SH = ZoneInfo("Asia/Shanghai")
SubjectKey = tuple[str, str]  # (subject_type, subject_code)
# The scheme (assessment/{subject}/…) each stored subject type is scored under.
SUBJECT_KINDS = {
    "county": "region",
    "street": "region",
    "grid": "region",
    "department": "department",
    "supervisor": "supervisor",
    "intake": "intake",
    "shift_lead": "shift_lead",
    "dispatcher": "dispatcher",
}
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))?$")


@dataclass(frozen=True)
class Period:
    """A month, quarter or year in Asia/Shanghai: ``[start, end)``."""

    label: str
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.match(text.strip())
        if m is None:
            raise InvalidInput(
                "unknown period",
                errors=[FieldProblem("period", "a month 2026-10, a quarter 2026Q4 or a year 2026", text)],
            )
        year = int(m[1])
        first, months = (int(m[2]), 1) if m[2] else ((int(m[3]) - 1) * 3 + 1, 3) if m[3] else (1, 12)
        start = datetime(year, first, 1, tzinfo=SH)
        last = first + months
        end = datetime(year + (last - 1) // 12, (last - 1) % 12 + 1, 1, tzinfo=SH)
        return cls(m[0], start, end)

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def _sums(columns: Sequence[str], *, volume: str = "volume") -> str:
    """The Counters fields in order: the sums of ``columns`` (``volume`` read from ``volume``), 0
    for the others."""
    read = {**{c: c for c in columns}, "volume": volume}
    return ", ".join(f"sum({read[c]})::int" if c in read else "0" for c in COUNTERS)


_PERIOD_SUM = text(
    "WITH g AS (SELECT regions, street, grid, post_type, post_code, unit, "
    + ", ".join(
        "sum(CASE WHEN pending_month >= :end THEN overdue_pending END)::int AS overdue_pending"
        if c == "overdue_pending"
        else f"sum({c})::int AS {c}"  # int, so that the second sums are bigint, not numeric
        for c in COUNTERS
    )
    + " FROM assessment_sums WHERE tenant_id = :tenant AND month >= :start AND month < :end AND facts > 0"
    " GROUP BY regions, street, grid, post_type, post_code, unit)"
    f" SELECT 'county', CAST(:code AS text), {_sums(REGION_COUNTERS, volume='filed')}"
    " FROM g WHERE regions HAVING count(*) > 0"
    f" UNION ALL SELECT 'street', street, {_sums(REGION_COUNTERS, volume='filed')}"
    " FROM g WHERE regions AND street <> '' GROUP BY street"
    f" UNION ALL SELECT 'grid', grid, {_sums(REGION_COUNTERS, volume='filed')}"
    " FROM g WHERE regions AND grid <> '' GROUP BY grid"
    f" UNION ALL SELECT post_type, post_code, {_sums(POST_COUNTERS)}"
    " FROM g WHERE post_code <> '' GROUP BY post_type, post_code"
    f" UNION ALL SELECT 'department', unit, {_sums(DEPARTMENT_COUNTERS)}"
    " FROM g WHERE unit <> '' GROUP BY unit"
)
"""A period's counters from the monthly sums of the facts: first per (regions, street, grid, post,
unit) over the period's months, then each subject from those groups, reading only its own counters
(``citylead.assessment.facts``). 超期待处置数 counts the clocks still pending at the period's end:
never disposed (``pending_month`` 'infinity'), or disposed in a month after the period."""


async def count_period(session: AsyncSession, county: Tenant, period: Period) -> dict[SubjectKey, Counters]:
    """The counters of every subject of ``county`` in ``period`` (the session is in the county's
    context); subjects with nothing counted are absent. Brings the county's facts up to date first."""
    await update_facts(session, county)
    rows = await session.execute(
        _PERIOD_SUM,
        {"tenant": county.id, "code": county.code, "start": period.start.date(), "end": period.end.date()},
    )
    return {
        (kind, code): Counters(**{c: v or 0 for c, v in zip(COUNTERS, values, strict=True)})
        for kind, code, *values in rows
    }


@dataclass(frozen=True)
class RefreshReport:
    county: str
    period: str
    subjects: int
    replaced: int
    rules: str | None


async def do_refresh(
    session: AsyncSession, county: Tenant, period: Period, *, acting_user: str
) -> RefreshReport:
    """Replace the county's rows of ``period`` with freshly counted ones, in the caller's one
    transaction (in the county's context); running it again gives the same rows."""
    counted = await count_period(session, county, period)
    rules = await Resolver().effective(session, county, Kind.ASSESSMENT)
    vector = format_vector(rules.vector)
    gone = await session.execute(
        delete(AssessmentCounters)
        .where(AssessmentCounters.tenant_id == county.id, AssessmentCounters.period == period.label)
        .returning(AssessmentCounters.subject_code)
    )
    replaced = len(gone.all())
    if counted:
        await session.execute(
            insert(AssessmentCounters),
            [
                {
                    "tenant_id": county.id,
                    "period": period.label,
                    "subject_type": kind,
                    "subject_code": code,
                    "counters": c.as_dict(),
                    "rules": vector,
                }
                for (kind, code), c in sorted(counted.items())
            ],
        )
    await record(
        session,
        county.id,
        actor=acting_user,
        action="assessment.refresh",
        subject=f"{county.code}/{period.label}",
        subjects=len(counted),
        replaced=replaced,
    )
    return RefreshReport(county.code, period.label, len(counted), replaced, vector)


@job("assessment.refresh", queue="default", max_retries=3, time_limit_ms=10 * 60_000)
async def refresh(
    ctx: JobContext, *, tenant_path: str, period: str, actor: str = "system:assessment"
) -> None:
    """Recount one county's period (idempotent: the rows are replaced, never added to)."""
    parsed = Period.parse(period)
    async with ctx.transaction(tenant_path) as s:
        county = await s.scalar(select(Tenant).where(Tenant.path == tenant_path))
        if county is None or not county.level.is_division:
            raise InvalidInput(
                "assessment.refresh needs a county-level division",
                errors=[FieldProblem("tenant_path", "a county-level division's path", tenant_path)],
            )
        await do_refresh(s, county, parsed, acting_user=actor)


JOBS = (refresh,)

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
  ``missed_reports`` (regions only): of those, cases reported by a public source. No filing or
  dispatch limit is pinned on cases yet, so ``filed_on_time`` = ``filed`` and
  ``dispatched_on_time`` = ``dispatched`` until one is.
- ``verify_due`` / ``check_due``: ``send_verify`` / ``send_check`` tasks whose ``due_at`` falls in the
  period; ``…_on_time``: answered (``verify``/``verify_false``, ``check_pass``/``check_fail``) at or
  before it. The supervisor who answered is the post; unanswered tasks count for regions only.
- ``dispatched``: ``dispatch`` events (dispatcher, regions); ``returned_wrong_unit``: of those, the
  ones followed by an ``approve_return`` or ``redispatch`` on the same case.
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
  ``rework``: of ``due_to_close``, cases with a ``check_fail``.
- ``volume``: a region's ``file`` events, a department's disposal clocks started in the period, a
  post's own events in the period (a supervisor's ``report`` events included).

Events are read in one query (the county's cases reported before the period's end and changed in
the year before its start), then grouped here; nothing is queried per case.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.assessment.counters import Counters
from citylead.assessment.models import AssessmentCounters
from citylead.cases.models import Case, CaseEvent, Source
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
_PUBLIC = {s.value for s in Source if s.public}
_INTAKE = {"accept", "send_verify", "refuse"}
_CLOCK_START = {"dispatch", "redispatch", "check_fail"}
_CLOCK_END = {"dispose", "redispatch", "approve_return", "check_fail"}
_POSTS = {"supervisor", "intake", "shift_lead", "dispatcher"}


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


@dataclass
class _Clock:
    unit: str
    started: datetime
    due: datetime | None
    ended_by: str | None = None
    overdue: bool = False
    postponed: bool = False


@dataclass
class _Tally:
    counts: dict[SubjectKey, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )

    def add(self, keys: list[SubjectKey], name: str, n: int = 1) -> None:
        for key in keys:
            self.counts[key][name] += n

    def result(self) -> dict[SubjectKey, Counters]:
        return {k: Counters(**v) for k, v in self.counts.items()}


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def count_period(session: AsyncSession, county: Tenant, period: Period) -> dict[SubjectKey, Counters]:
    """The counters of every subject of ``county`` in ``period`` (the session is in the county's
    context); subjects with nothing counted are absent."""
    rows = (
        await session.execute(
            select(CaseEvent, Case.grid_code, Case.street_code, Case.source)
            .join(Case, (Case.tenant_id == CaseEvent.tenant_id) & (Case.id == CaseEvent.case_id))
            .where(
                Case.tenant_id == county.id,
                Case.reported_at < period.end,
                Case.updated_at >= period.start - timedelta(days=366),
            )
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        )
    ).all()
    by_case: dict[uuid.UUID, list[CaseEvent]] = defaultdict(list)
    place: dict[uuid.UUID, tuple[str | None, str | None, str]] = {}
    unit_ids: set[str] = set()
    for event, grid, street, source in rows:
        by_case[event.case_id].append(event)
        place[event.case_id] = (grid, street, source)
        if unit := event.data.get("unit"):
            unit_ids.add(unit["tenant_id"])
    codes = {str(t.id): t.code for t in await session.scalars(select(Tenant).where(Tenant.id.in_(unit_ids)))}
    tally = _Tally()
    for case_id, events in by_case.items():
        grid, street, source = place[case_id]
        regions: list[SubjectKey] = [("county", county.code)]
        regions += [("street", street)] if street else []
        regions += [("grid", grid)] if grid else []
        _count_case(tally, period, events, regions, source, codes)
    return tally.result()


def _count_case(
    tally: _Tally,
    period: Period,
    events: list[CaseEvent],
    regions: list[SubjectKey],
    source: str,
    codes: dict[str, str],
) -> None:
    actions = {e.action for e in events}
    valid = "file" in actions and "void" not in actions
    for i, e in enumerate(events):
        post: list[SubjectKey] = [(e.actor_role, e.actor)] if e.actor_role in _POSTS else []
        if not period.holds(e.at):
            continue
        tally.add(post, "volume")
        if e.action == "report" and source == Source.SUPERVISOR.value:
            reporter: SubjectKey = ("supervisor", e.actor)  # a report event carries no role
            tally.add([*regions, reporter], "reports")
            tally.add([*regions, reporter], "valid_reports", int(valid))
            tally.add([reporter], "volume")
        elif e.action in _INTAKE and e.actor_role == "intake":
            tally.add([*regions, *post], "reports")
            tally.add([*regions, *post], "valid_reports", int(valid))
        elif e.action == "file":
            keys = [*regions, *post]
            tally.add(keys, "filed")
            tally.add(keys, "filed_on_time")
            tally.add(keys, "voided", int("void" in actions))
            tally.add(regions, "missed_reports", int(source in _PUBLIC))
            tally.add(regions, "volume")
        elif e.action == "dispatch":
            keys = [*regions, *post]
            tally.add(keys, "dispatched")
            tally.add(keys, "dispatched_on_time")
            later = {x.action for x in events[i + 1 :]}
            tally.add(keys, "returned_wrong_unit", int(bool(later & {"approve_return", "redispatch"})))
    _count_tasks(tally, period, events, regions)
    _count_clocks(tally, period, events, regions, codes)


def _count_tasks(tally: _Tally, period: Period, events: list[CaseEvent], regions: list[SubjectKey]) -> None:
    """核实 and 核查 tasks: due in the period, answered on time."""
    for i, e in enumerate(events):
        name = {"send_verify": "verify", "send_check": "check"}.get(e.action)
        due = _at(e.data.get("due_at"))
        if name is None or not period.holds(due):
            continue
        answers = {"verify": ("verify", "verify_false"), "check": ("check_pass", "check_fail")}[name]
        answer = next((x for x in events[i + 1 :] if x.action in answers), None)
        keys = regions + (
            [(answer.actor_role, answer.actor)] if answer and answer.actor_role in _POSTS else []
        )
        tally.add(keys, f"{name}_due")
        assert due is not None
        name_done = "verified_on_time" if name == "verify" else "checked_on_time"
        tally.add(keys, name_done, int(answer is not None and answer.at <= due))


def _count_clocks(
    tally: _Tally, period: Period, events: list[CaseEvent], regions: list[SubjectKey], codes: dict[str, str]
) -> None:
    """处置 clocks, and the case's closing (due with its last clock)."""
    clocks: list[_Clock] = []
    unit = ""
    for e in events:
        if clocks and clocks[-1].ended_by is None:
            open_clock = clocks[-1]
            if e.action in ("approve_postpone", "resume"):
                open_clock.due = _at(e.data.get("due_at"))
                open_clock.postponed |= e.action == "approve_postpone"
            elif e.action == "approve_park":
                open_clock.due = None
            if e.action in _CLOCK_END:
                open_clock.ended_by = e.action
                open_clock.overdue = bool(e.data.get("overdue"))
        if e.action in ("dispatch", "redispatch"):
            u = e.data["unit"]
            unit = f"{codes.get(u['tenant_id'], u['tenant_id'])}:{u['code']}"
        if e.action in _CLOCK_START:
            clocks.append(_Clock(unit, e.at, _at(e.data.get("due_at"))))
    for clock in clocks:
        keys = [*regions, ("department", clock.unit)]
        if period.holds(clock.started):
            tally.add([("department", clock.unit)], "volume")
        if not period.holds(clock.due) or clock.ended_by in ("redispatch", "approve_return"):
            continue  # a clock taken away from a wrong unit is the dispatcher's error, not the unit's
        disposed = clock.ended_by == "dispose"
        tally.add(keys, "due_for_disposal")
        tally.add(keys, "disposed", int(disposed))
        tally.add(keys, "disposed_on_time", int(disposed and not clock.overdue))
        tally.add(keys, "postponed", int(clock.postponed))
        end = next((e.at for e in events if e.action == "dispose" and e.at >= clock.started), None)
        tally.add(keys, "overdue_pending", int(not disposed or end is None or end >= period.end))
    if clocks and period.holds(clocks[-1].due):
        keys = [*regions, ("department", clocks[-1].unit)]
        close = next((e for e in events if e.action == "close"), None)
        deferred = any(e.action == "approve_postpone" for e in events)
        on_time = close is not None and close.data.get("closing_type") == "normal"
        tally.add(keys, "due_to_close")
        tally.add(keys, "closed", int(close is not None))
        tally.add(keys, "closed_on_time", int(on_time))
        tally.add(keys, "deferred_approved", int(deferred))
        tally.add(keys, "deferred_closed_on_time", int(deferred and on_time))
        tally.add(keys, "rework", int(any(e.action == "check_fail" for e in events)))


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
    session.add_all(
        AssessmentCounters(
            tenant_id=county.id,
            period=period.label,
            subject_type=kind,
            subject_code=code,
            counters=c.as_dict(),
            rules=vector,
        )
        for (kind, code), c in sorted(counted.items())
    )
    await session.flush()
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

"""Intake (信息收集): a report becomes a case — or joins an open one (重复案件), or, retried with the
same idempotency key, finds the case it already made.

Every case pins the version vectors of the standards in force at intake (catalogue, manual,
calendar) and the limits of its class, so its deadlines never change retroactively.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.deadlines import pinned_limits, step_due
from citylead.cases.duplicates import find_open_duplicate, join
from citylead.cases.events import add_event
from citylead.cases.models import Case, IntakeKey, Source
from citylead.cases.workflow import State
from citylead.geography.index import Locator, Place
from citylead.jobs.notifications import notify
from tenants.errors import Conflict, FieldProblem, InvalidInput
from tenants.models import Tenant, TenantStatus
from tenants.standards.layers import Effective
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver, format_vector
from tenants.standards.views import ClassRule, Manual, calendar_of
from tenants.standards.worktime import WorkCalendar

if TYPE_CHECKING:
    from citylead.units.routing import Suggestion

__all__ = ["Intake", "Report", "do_report", "new_case", "report_event"]

KINDS = ("component", "matter")
PINNED = (Kind.CATALOG, Kind.MANUAL, Kind.CALENDAR)
_NUMBER = text("SELECT nextval('case_number_seq')")


@dataclass(frozen=True)
class Report:
    """What a reporter says: the class (kind + code), where, what, how urgent, from where."""

    kind: str
    code: str
    lon: float
    lat: float
    description: str
    urgency: str = "normal"
    source: Source = Source.SUPERVISOR
    address: str | None = None
    reporter: dict[str, Any] = field(default_factory=dict)
    component_id: str | None = None
    external_id: str | None = None

    def fingerprint(self) -> str:
        """What a retry must repeat exactly to be the same request."""
        body = json.dumps(
            [self.kind, self.code, self.lon, self.lat, self.description, self.urgency, self.source.value],
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Intake:
    case: Case
    created: bool  # False: a retry found its case, or the report joined an open duplicate
    joined: bool = False  # the report was counted on an open case of the same class nearby


def _check(report: Report) -> list[FieldProblem]:
    problems = []
    if report.kind not in KINDS:
        problems.append(FieldProblem("kind", 'must be "component" (部件) or "matter" (事件)', report.kind))
    if not (-180 <= report.lon <= 180) or not math.isfinite(report.lon):
        problems.append(FieldProblem("lon", "must be a longitude between -180 and 180", report.lon))
    if not (-90 <= report.lat <= 90) or not math.isfinite(report.lat):
        problems.append(FieldProblem("lat", "must be a latitude between -90 and 90", report.lat))
    if not report.description.strip():
        problems.append(FieldProblem("description", "must describe the problem", report.description))
    elif len(report.description) > 2000:
        problems.append(
            FieldProblem("description", "must be at most 2000 characters", len(report.description))
        )
    return problems


def class_of(catalog: Effective, kind: str, code: str) -> tuple[str, str | None]:
    """The class's name in the county's effective catalogue, and the crosswalk target of a legacy
    code; 422 naming ``code`` if the county's catalogue does not offer it."""
    name = catalog.value(f"catalog/{kind}/{code}/name")
    if name is None or len(code) == 2:
        raise InvalidInput(
            f"{kind} {code} is not a class in this county's catalogue",
            errors=[
                FieldProblem("code", "must be a minor class or sub-item the county's catalogue offers", code)
            ],
        )
    return str(name), catalog.value(f"catalog/{kind}/{code}/maps_to")


def rule_of(manual: Effective, kind: str, code: str, maps_to: str | None, urgency: str) -> ClassRule:
    view = Manual.of(manual)
    if urgency not in view.levels:
        raise InvalidInput(
            f"urgency {urgency!r} is not a level of this county's manual",
            errors=[FieldProblem("urgency", f"must be one of {', '.join(view.levels)}", urgency)],
        )
    return view.rule(kind, code, maps_to=maps_to)


def new_case(
    county: Tenant,
    report: Report,
    *,
    case_id: uuid.UUID,
    sequence: int,
    now: datetime,
    docs: dict[Kind, Effective],
    class_name: str,
    rule: ClassRule,
    place: Place,
    suggestion: Suggestion,
    acting_user: str,
    factory: Callable[..., Case] = Case,
) -> Case:
    """The case a report opens (not yet added to a session): pure, shared with the demo history's
    bulk path (``citylead.history``), which builds it as a plain row (``factory``)."""
    state = State.REPORTED if report.source.public else State.ACCEPTED
    calendar = calendar_of(docs[Kind.CALENDAR])
    return factory(
        tenant_id=county.id,
        id=case_id,
        number=f"{county.code}-{now.astimezone(calendar.tz):%Y%m%d}-{sequence:07d}",
        kind=report.kind,
        class_code=report.code,
        class_name=class_name,
        urgency=report.urgency,
        source=report.source.value,
        description=report.description.strip(),
        address=report.address,
        lon=report.lon,
        lat=report.lat,
        grid_code=place.grid_code,
        street_code=place.street_code,
        community_code=place.community_code,
        component_id=suggestion.component_id or report.component_id,
        reporter=report.reporter,
        external_id=report.external_id,
        state=state.value,
        standards={k.value: format_vector(docs[k].vector) for k in PINNED},
        limits=pinned_limits(rule, report.urgency, docs[Kind.CALENDAR]),
        command_tenant_id=county.id,
        suggestion={
            "unit_tenant_id": str(suggestion.unit_tenant_id) if suggestion.unit_tenant_id else None,
            "unit_code": suggestion.unit_code,
            "unit_name": suggestion.unit_name,
            "basis": suggestion.basis,
            "reason": suggestion.reason,
        },
        reported_by=acting_user,
        reported_at=now,
        updated_at=now,
    )


def report_event(case: Case, calendar: WorkCalendar) -> tuple[str, dict[str, Any]]:
    """The reason and data of a new case's ``report`` event. A report that needs no verification
    is ready to file at once (待立案): the event pins the filing deadline (立案时限)."""
    source = Source(case.source)
    data = {"source": source.value, "urgency": case.urgency, "routing": case.suggestion}
    if case.state == State.ACCEPTED.value:
        data.update(step_due(case, "file", case.reported_at, calendar))
    return f"{source.label}：{case.class_name}", data


async def _keyed(
    session: AsyncSession, county: Tenant, client: str, key: str, fingerprint: str
) -> Case | None:
    """The case a previous call with this key made, waiting for a concurrent one to finish."""
    row = await session.scalar(
        select(IntakeKey).where(
            IntakeKey.tenant_id == county.id, IntakeKey.client == client, IntakeKey.key == key
        )
    )
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise Conflict(
            "this Idempotency-Key was already used for a different report",
            errors=[{"field": "Idempotency-Key", "rule": "must be unique per report", "value": key}],
        )
    return await session.scalar(select(Case).where(Case.tenant_id == county.id, Case.id == row.case_id))


async def do_report(
    session: AsyncSession,
    county: Tenant,
    report: Report,
    *,
    resolver: Resolver,
    locator: Locator,
    acting_user: str,
    idempotency: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> Intake:
    """Take a report into ``county`` (the session is in the county's context). ``idempotency`` is
    (client, key): a retry — even a concurrent one — returns the case the first call made."""
    if not county.level.is_division or county.status is not TenantStatus.LIVE:
        raise InvalidInput(
            f"{county.name} ({county.code}) is not a live county-level division",
            errors=[FieldProblem("county", "must be a live county-level division", county.code)],
        )
    if problems := _check(report):
        raise InvalidInput("the report is not valid", errors=problems)
    fingerprint = report.fingerprint()
    if idempotency is not None:
        client, key = idempotency
        if (found := await _keyed(session, county, client, key, fingerprint)) is not None:
            return Intake(found, created=False)
    docs = await resolver.pin(session, county, PINNED)
    class_name, maps_to = class_of(docs[Kind.CATALOG], report.kind, report.code)
    rule = rule_of(docs[Kind.MANUAL], report.kind, report.code, maps_to, report.urgency)
    calendar = calendar_of(docs[Kind.CALENDAR])
    place = await locator.place(session, county, report.lon, report.lat)
    now = now or await session.scalar(select(func.now()))
    assert now is not None

    case_id = uuid.uuid4()
    if idempotency is not None:
        # Claim the key first: a concurrent retry blocks here until this transaction ends, then
        # finds the committed row (or, if this one rolled back, claims the key itself).
        claimed = await session.scalar(
            insert(IntakeKey)
            .values(
                tenant_id=county.id,
                client=idempotency[0],
                key=idempotency[1],
                request_hash=fingerprint,
                case_id=case_id,
            )
            .on_conflict_do_nothing()
            .returning(IntakeKey.case_id)
        )
        if claimed is None:
            found = await _keyed(session, county, *idempotency, fingerprint)
            assert found is not None
            return Intake(found, created=False)

    open_case = await find_open_duplicate(
        session,
        county.id,
        kind=report.kind,
        code=report.code,
        lon=report.lon,
        lat=report.lat,
        rule=rule,
        calendar=calendar,
        now=now,
    )
    if open_case is not None:
        await join(
            session,
            open_case,
            reason=f"重复上报（{report.source.label}）：{report.description[:200]}",
            data={
                "source": report.source.value,
                "lon": report.lon,
                "lat": report.lat,
                "reporter": report.reporter,
            },
            acting_user=acting_user,
            now=now,
        )
        if idempotency is not None:
            await session.execute(
                update(IntakeKey)
                .where(
                    IntakeKey.tenant_id == county.id,
                    IntakeKey.client == idempotency[0],
                    IntakeKey.key == idempotency[1],
                )
                .values(case_id=open_case.id)
            )
        return Intake(open_case, created=False, joined=True)

    from citylead.units.routing import suggest

    suggestion = await suggest(
        session,
        county,
        kind=report.kind,
        code=report.code,
        responsible=rule.responsible,
        street_code=place.street_code,
        lon=report.lon,
        lat=report.lat,
        component_id=report.component_id,
        grid_code=place.grid_code,
        street_name=place.street_name,
    )
    sequence = await session.scalar(_NUMBER)
    assert sequence is not None
    case = new_case(
        county,
        report,
        case_id=case_id,
        sequence=sequence,
        now=now,
        docs=docs,
        class_name=class_name,
        rule=rule,
        place=place,
        suggestion=suggestion,
        acting_user=acting_user,
    )
    session.add(case)
    await session.flush()
    reason, data = report_event(case, calendar)
    await add_event(
        session,
        case,
        "report",
        None,
        case.state,
        actor=acting_user,
        reason=reason,
        data=data,
        at=now,
        first=True,
    )
    state = State(case.state)
    public = state is State.REPORTED
    notify(
        session,
        county,
        recipient_kind="role",
        recipient="intake" if public else "shift_lead",
        subject=f"{'新上报待受理' if public else '新上报待立案'}：{case.number}",
        body=f"{class_name}（{report.source.label}）：{case.description[:120]}",
        case_id=case.id,
        dedupe_key=f"case:{case.id}:1",
    )
    return Intake(case, created=True)

"""Actions on a case (案卷操作): one transition of :mod:`citylead.cases.workflow` each.

``do_action(session, case, name, given, *, actor, ...)`` checks the transition, the role and the
action's needs, applies its effects (clocks, unit, counters), appends one event and enqueues its
side effects through the outbox — all in the caller's transaction. A stale ``expected_version``
or a concurrent change is a 409; nothing is written on any error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from citylead.cases import deadlines
from citylead.cases.access import Actor
from citylead.cases.events import add_event
from citylead.cases.models import Case
from citylead.cases.workflow import ACTIONS, Action, Needs, State, allowed_actions, transition
from citylead.identity.principal import Role
from citylead.jobs.notifications import notify
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import At, Resolver, parse_at
from tenants.standards.views import calendar_of
from tenants.standards.worktime import Limit, WorkCalendar, deadline

__all__ = ["CLOSING_TYPES", "Given", "calendar_for", "do_action"]

CLOSING_TYPES = {"normal": "正常结案", "overdue": "超期结案", "erroneous": "错误结案", "special": "特殊结案"}


@dataclass(frozen=True)
class Given:
    """What the actor sends with an action."""

    reason: str | None = None
    unit: tuple[str, str] | None = None  # (tenant code, unit code); dispatch defaults to the suggestion
    duration: str | None = None  # a postponement asked for, e.g. "1wd"
    granted: str | None = None  # a postponement granted (at most what was asked)
    feedback: str | None = None
    closing_type: str | None = None
    expected_version: int | None = None


async def calendar_for(session: AsyncSession, resolver: Resolver, case: Case) -> WorkCalendar:
    """The working calendar the case was filed under (its pinned vector)."""
    county = await session.get(Tenant, case.tenant_id)
    if county is None:
        raise NotFound(f"no case {case.id}")
    at: At | None = parse_at(case.standards[Kind.CALENDAR.value])
    return calendar_of(await resolver.effective(session, county, Kind.CALENDAR, at=at))


def _role_of(actor: Actor, action: Action) -> str:
    usable = sorted(r.value for r in actor.roles.intersection(action.roles))
    if not usable:
        needed = "、".join(f"{r.label}（{r.value}）" for r in sorted(action.roles))
        raise Forbidden(f"「{action.label}」needs the role {needed}")
    return usable[0]


def _text(value: str | None, field: str, rule: str) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"{field} is required", errors=[FieldProblem(field, rule, value)])
    if len(value) > 2000:
        raise InvalidInput(
            f"{field} is too long", errors=[FieldProblem(field, "at most 2000 characters", len(value))]
        )
    return value.strip()


def _limit(value: str | None, field: str) -> Limit:
    try:
        limit = Limit.parse(value or "")
    except ValueError:
        limit = None
    if limit is None or limit.amount <= 0:
        raise InvalidInput(
            f"{field} must be a time limit",
            errors=[FieldProblem(field, "a positive limit such as 4wh, 2wd, 30wmin or 24h", value)],
        )
    return limit


async def _check_needs(
    session: AsyncSession, case: Case, action: Action, given: Given, actor: Actor
) -> dict[str, Any]:
    """Check what the action needs; return what the effects use (unit, city, limits…)."""
    found: dict[str, Any] = {}
    label = action.label
    if Needs.CASE_TENANT in action.needs and actor.tenant.id != case.tenant_id:
        raise Forbidden(f"「{label}」is taken by the county that owns the case")
    if Needs.COMMAND in action.needs and actor.tenant.id != case.command_tenant_id:
        raise Forbidden(f"「{label}」is taken by the command centre holding the case")
    if Needs.OWN_UNIT in action.needs and not actor.acts_for(case.unit_tenant_id, case.unit_code):
        raise Forbidden(f"「{label}」is taken by the unit the case is assigned to ({case.unit_name})")
    if Needs.OWN_REPORT in action.needs and case.reported_by != actor.username:
        raise Forbidden("only the supervisor who reported a case may handle it themselves (自处理)")
    if Needs.REASON in action.needs:
        found["reason"] = _text(given.reason, "reason", "a reason is required for this action")
    if Needs.FEEDBACK in action.needs:
        found["feedback"] = _text(given.feedback, "feedback", "describe what was done (处置情况)")
    if Needs.DURATION in action.needs:
        found["duration"] = _limit(given.duration, "duration")
    if Needs.CITY_ABOVE in action.needs:
        county = await session.get(Tenant, case.tenant_id)
        city = await session.get(Tenant, county.parent_id) if county and county.parent_id else None
        if city is None or city.depth != 2:
            raise Conflict("this county has no city command centre above it to escalate to")
        found["city"] = city
    if Needs.UNIT in action.needs:
        found["unit"] = await _unit(session, case, given, actor)
    return found


async def _unit(session: AsyncSession, case: Case, given: Given, actor: Actor) -> Any:
    from citylead.units.service import access_unit

    if given.unit is not None:
        tenant_code, unit_code = given.unit
    else:
        suggested = case.suggestion or {}
        if not suggested.get("unit_code"):
            raise InvalidInput(
                "no unit was suggested for this case: name one, or escalate it to the city (疑难上报)",
                errors=[FieldProblem("unit", "name the unit to dispatch to", None)],
            )
        tenant_code = (
            await session.scalar(select(Tenant.code).where(Tenant.id == suggested["unit_tenant_id"])) or ""
        )
        unit_code = suggested["unit_code"]
    try:
        unit = await access_unit(session, actor.context, tenant_code, unit_code)
    except NotFound:
        raise InvalidInput(
            f"no unit {unit_code} of {tenant_code} that you can dispatch to",
            errors=[
                FieldProblem(
                    "unit", "must be an active unit of the county or its city", f"{tenant_code}/{unit_code}"
                )
            ],
        ) from None
    owner = await session.get(Tenant, unit.tenant_id)
    if owner is None or owner.depth < 2 or not getattr(unit, "active", True):
        raise InvalidInput(
            "that unit cannot take cases",
            errors=[
                FieldProblem(
                    "unit", "must be an active unit of a city or county", f"{tenant_code}/{unit_code}"
                )
            ],
        )
    return unit


def _apply(
    case: Case,
    action: Action,
    given: Given,
    found: dict[str, Any],
    now: datetime,
    calendar: WorkCalendar | None,
) -> dict[str, Any]:
    """The action's effects on the case; returns what the event records besides the reason."""
    name, data = action.name, dict[str, Any]()
    cal = calendar or _NO_CALENDAR
    if name == "send_verify":
        deadlines.start_clock(case, "verify", now, cal)
    elif name == "send_check":
        deadlines.start_clock(case, "check", now, cal)
    elif name in ("accept", "refuse", "verify", "verify_false", "void", "check_pass"):
        deadlines.stop_clock(case)
    elif name == "file":
        case.filed_at = now
        deadlines.stop_clock(case)
    elif name in ("dispatch", "redispatch"):
        unit = found["unit"]
        data["from_unit"] = case.unit_code
        case.unit_tenant_id, case.unit_code, case.unit_name = unit.tenant_id, unit.code, unit.name
        case.dispatched_at = now
        deadlines.start_clock(case, "dispose", now, cal)
        data["unit"] = {"tenant_id": str(unit.tenant_id), "code": unit.code, "name": unit.name}
        data["due_at"] = case.due_at.isoformat() if case.due_at else None
    elif name == "approve_return":
        case.return_count += 1
        data["returned_by"] = case.unit_code
        case.unit_tenant_id = case.unit_code = case.unit_name = None
        deadlines.stop_clock(case)
    elif name == "request_postpone":
        case.pending = {"postpone": str(found["duration"])}
    elif name == "approve_postpone":
        asked = Limit.parse(case.pending.get("postpone", "0wmin"))
        granted = _limit(given.granted, "granted") if given.granted else asked
        if granted.duration(cal) > asked.duration(cal):
            raise InvalidInput(
                "a postponement cannot grant more than was asked",
                errors=[FieldProblem("granted", f"must be at most {asked}", given.granted)],
            )
        deadlines.pause(case, now, deadline(now, granted, cal), cal)
        case.postpone_count += 1
        data["granted"] = str(granted)
        data["due_at"] = case.due_at.isoformat() if case.due_at else None
    elif name == "approve_park":
        deadlines.pause(case, now, None, cal)
    elif name == "resume":
        deadlines.resume(case, now, cal)
        data["due_at"] = case.due_at.isoformat() if case.due_at else None
    elif name in ("dispose", "self_handle"):
        case.disposed_at = now
        case.dispose_overdue = case.step == "dispose" and case.due_at is not None and now > case.due_at
        data["feedback"] = found["feedback"]
        data["overdue"] = case.dispose_overdue
        deadlines.stop_clock(case)
    elif name == "check_fail":
        case.rework_count += 1
        deadlines.start_clock(case, "dispose", now, cal)
        data["due_at"] = case.due_at.isoformat() if case.due_at else None
    elif name == "close":
        kind = given.closing_type or ("overdue" if case.dispose_overdue else "normal")
        if kind not in CLOSING_TYPES:
            raise InvalidInput(
                "unknown closing type",
                errors=[FieldProblem("closing_type", f"must be one of {', '.join(CLOSING_TYPES)}", kind)],
            )
        case.closing_type, case.closed_at = kind, now
        data["closing_type"] = kind
        deadlines.stop_clock(case)
    elif name == "escalate":
        city: Tenant = found["city"]
        case.command_tenant_id = city.id
        case.unit_tenant_id = case.unit_code = case.unit_name = None
        data["to"] = city.code
    elif name == "send_back":
        case.command_tenant_id = case.tenant_id
    if name.startswith(("approve_", "deny_")):
        case.pending = {}
    return data


# Actions that start, pause or resume a clock read the case's pinned calendar; the others do not
# (so a unit in another county, which cannot read the case county's standards, can still act).
CLOCKED = {
    "send_verify",
    "send_check",
    "dispatch",
    "redispatch",
    "approve_postpone",
    "approve_park",
    "resume",
    "check_fail",
}
_NO_CALENDAR = WorkCalendar.default()

# Who is told after each action: (recipient, where it reads, subject). ``unit`` is the assigned
# unit; roles read in the command centre holding the case or in the case's county.
_NOTIFY = {
    "dispatch": ("unit", "unit", "新派遣案件"),
    "redispatch": ("unit", "unit", "改派案件"),
    "check_fail": ("unit", "unit", "案件核查不通过，请返工"),
    "request_return": ("dispatcher", "command", "回退申请待审批"),
    "request_postpone": ("dispatcher", "command", "延期申请待审批"),
    "request_park": ("dispatcher", "command", "挂账申请待审批"),
    "escalate": ("dispatcher", "command", "疑难案件待市指挥中心派遣"),
    "send_back": ("dispatcher", "command", "市指挥中心退回，请派遣"),
    "dispose": ("intake", "county", "案件已处置，待派发核查"),
    "send_verify": ("supervisor", "county", "核实任务"),
    "send_check": ("supervisor", "county", "核查任务"),
}


async def _notify(
    session: AsyncSession, case: Case, actor: Actor, message: tuple[str, str, str], seq: int
) -> None:
    """Tell whoever acts next, in the tenant where they read when it is in the actor's line of the
    tree (a city department, a county's unit, the city's command centre); a unit is ``TENANT/UNIT``."""
    who, where, subject = message
    place = {"unit": case.unit_tenant_id, "command": case.command_tenant_id, "county": case.tenant_id}[where]
    code = await session.scalar(select(Tenant.code).where(Tenant.id == place)) if who == "unit" else None
    notify(
        session,
        actor.tenant,
        recipient_kind="unit" if who == "unit" else "role",
        recipient=f"{code or '?'}/{case.unit_code}" if who == "unit" else who,
        subject=f"{subject}：{case.number}",
        body=f"{case.class_name}，{case.address or case.grid_code or '见案卷'}：{case.description[:100]}",
        case_id=case.id,
        dedupe_key=f"case:{case.id}:{seq}",
        deliver_to_id=place,
    )


async def do_action(
    session: AsyncSession,
    case: Case,
    name: str,
    given: Given,
    *,
    actor: Actor,
    resolver: Resolver,
    now: datetime | None = None,
) -> Case:
    if name not in ACTIONS:
        raise NotFound(f"no action {name!r}; actions are: {', '.join(ACTIONS)}")
    state = State(case.state)
    step = transition(state, name)
    if step is None:
        allowed = allowed_actions(state)
        raise Conflict(
            f"「{ACTIONS[name].label}」cannot be taken on a case that is {state.label} ({state.value})",
            state=state.value,
            allowed=allowed,
            yours=[a for a in allowed if actor.roles.intersection(ACTIONS[a].roles)],
        )
    if given.expected_version is not None and given.expected_version != case.version:
        raise Conflict(
            f"the case changed since you read it (version {given.expected_version}, now {case.version})",
            version=case.version,
        )
    action = step.action
    role = _role_of(actor, action)
    found = await _check_needs(session, case, action, given, actor)
    now = now or await session.scalar(select(func.now()))
    assert now is not None
    cal = await calendar_for(session, resolver, case) if name in CLOCKED else None
    target = action.target_for(escalated=case.command_tenant_id != case.tenant_id)
    data = _apply(case, action, given, found, now, cal)
    case.state, case.updated_at = target.value, now
    event = await add_event(
        session,
        case,
        name,
        state.value,
        target.value,
        actor=actor.username,
        actor_role=role,
        actor_tenant=actor.tenant.code,
        reason=found.get("reason") or found.get("feedback"),
        data=data,
        at=now,
    )
    try:
        await session.flush()
    except StaleDataError:
        raise Conflict("the case was changed by someone else at the same time; read it again") from None
    if name == "file" and case.limits.get("auto_dispatch") and case.suggestion.get("unit_code"):
        system = Actor("system:auto-dispatch", frozenset({Role.DISPATCHER}), actor.tenant)
        return await do_action(session, case, "dispatch", Given(), actor=system, resolver=resolver, now=now)
    if (message := _NOTIFY.get(name)) is not None:
        await _notify(session, case, actor, message, event.seq)
    return case

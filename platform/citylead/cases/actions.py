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

from citylead.cases.access import Actor
from citylead.cases.effects import CLOCKED, EFFECTS, Step, limit_field
from citylead.cases.events import add_event
from citylead.cases.models import Case
from citylead.cases.notices import tell_next
from citylead.cases.workflow import ACTIONS, Action, Needs, State, Transition, allowed_actions, transition
from citylead.identity.principal import Role
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import At, Resolver, parse_at
from tenants.standards.views import calendar_of
from tenants.standards.worktime import WorkCalendar

__all__ = ["NO_CALENDAR", "Given", "apply_step", "calendar_for", "do_action", "given_fields", "role_of"]


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


def role_of(actor: Actor, action: Action) -> str:
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


def given_fields(action: Action, given: Given) -> dict[str, Any]:
    """The reason, feedback and duration the action needs, checked (422 naming the field)."""
    found: dict[str, Any] = {}
    if Needs.REASON in action.needs:
        found["reason"] = _text(given.reason, "reason", "a reason is required for this action")
    if Needs.FEEDBACK in action.needs:
        found["feedback"] = _text(given.feedback, "feedback", "describe what was done (处置情况)")
    if Needs.DURATION in action.needs:
        found["duration"] = limit_field(given.duration, "duration")
    return found


def apply_step(
    case: Case, step: Transition, given: Given, found: dict[str, Any], now: datetime, calendar: WorkCalendar
) -> tuple[State, dict[str, Any]]:
    """Apply a checked transition to the case (its effects, then its state): the target state and
    what the event records. Pure, shared with the demo history's bulk path (``citylead.history``)."""
    target = step.action.target_for(escalated=case.command_tenant_id != case.tenant_id)
    effect = EFFECTS.get(step.action.name)
    applied = Step(case, now, calendar, found, granted=given.granted, closing_type=given.closing_type)
    data = effect(applied) if effect else {}
    case.state, case.updated_at = target.value, now
    return target, data


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
    found.update(given_fields(action, given))
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


NO_CALENDAR = WorkCalendar.default()  # for actions that touch no clock (see effects.CLOCKED)


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
    role = role_of(actor, action)
    found = await _check_needs(session, case, action, given, actor)
    now = now or await session.scalar(select(func.now()))
    assert now is not None
    calendar = await calendar_for(session, resolver, case) if name in CLOCKED else NO_CALENDAR
    target, data = apply_step(case, step, given, found, now, calendar)
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
    await tell_next(session, case, actor, name, event.seq)
    return case

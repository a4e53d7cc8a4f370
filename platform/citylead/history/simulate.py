"""The bulk path's core (批量生成): a case and its events built in memory by the workflow's own pure
functions — ``intake.new_case`` / ``report_event``, ``workflow.transition``, ``actions.role_of`` /
``given_fields`` / ``apply_step`` (the effects, clocks and deadlines) — on a :class:`World` snapshot
instead of a session. What a plan's report and moves make here is what ``do_report`` and
``do_action`` write for them (``tests/integration/history`` checks it row by row).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from citylead.cases.access import Actor
from citylead.cases.actions import NO_CALENDAR, Given, apply_step, given_fields, role_of
from citylead.cases.effects import CLOCKED
from citylead.cases.intake import Report, class_of, new_case, report_event, rule_of
from citylead.cases.models import Case
from citylead.cases.workflow import Action, Needs, State, transition
from citylead.history.world import World
from citylead.identity.principal import Role
from tenants.errors import Conflict, InvalidInput
from tenants.models import Tenant
from tenants.standards.paths import Kind

__all__ = ["CASE_DEFAULTS", "Built", "Move", "Plan", "Simulation", "actor_of_move"]

# What the database fills in for a new case (the columns' server defaults): a case built in
# memory needs them before any clock runs.
CASE_DEFAULTS: dict[str, Any] = {
    "paused": [],
    "stage_due": [],
    "overdue": False,
    "dispose_overdue": False,
    "pending": {},
    "rework_count": 0,
    "return_count": 0,
    "postpone_count": 0,
    "duplicate_count": 0,
    "closing_type": None,
    "step": None,
    "step_started_at": None,
    "step_limit": None,
    "due_at": None,
    "warn_at": None,
    "unit_tenant_id": None,
    "unit_code": None,
    "unit_name": None,
    "filed_at": None,
    "dispatched_at": None,
    "disposed_at": None,
    "closed_at": None,
}


@dataclass(frozen=True)
class Move:
    """One action of a plan: who (username, role, tenant code), when, with what."""

    action: str
    at: datetime
    actor: str
    role: Role
    tenant: str
    reason: str | None = None
    unit: tuple[str, str] | None = None  # (tenant code, unit code); dispatch: None = the suggestion
    duration: str | None = None
    granted: str | None = None
    feedback: str | None = None

    @property
    def given(self) -> Given:
        return _given(self.reason, self.unit, self.duration, self.granted, self.feedback)


@lru_cache(maxsize=4096)
def _given(
    reason: str | None,
    unit: tuple[str, str] | None,
    duration: str | None,
    granted: str | None,
    feedback: str | None,
) -> Given:
    """One (immutable) :class:`Given` for each combination: the planner's phrases are few."""
    return Given(reason, unit, duration, granted, feedback)


@dataclass
class Plan:
    """The seeded script of one case: its report (at, by whom) and its moves in order."""

    report: Report
    at: datetime
    by: str
    moves: list[Move] = field(default_factory=list)


@dataclass
class Built:
    """A case as built in memory, with its events (``case_events`` rows as dicts)."""

    case: Case
    events: list[dict[str, Any]]


class CaseRow:
    """A case row in memory for the bulk path: the attributes of :class:`Case` without the ORM's
    instrumentation (the workflow's functions read and set attributes only)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(CASE_DEFAULTS)
        self.__dict__.update(values)
        self.paused: list[list[str | None]] = []
        self.stage_due: list[list[str | None]] = []
        self.pending: dict[str, Any] = {}


def actor_of_move(move: Move, tenant: Tenant, case: Case) -> Actor:
    """Who takes the move: a department user acts for the unit the case is assigned to."""
    units: frozenset[tuple[uuid.UUID, str]] = frozenset()
    if move.role is Role.DEPARTMENT and case.unit_tenant_id is not None and case.unit_code:
        units = frozenset({(case.unit_tenant_id, case.unit_code)})
    return Actor(move.actor, frozenset({move.role}), tenant, units)


class Simulation:
    """Builds cases of one division from plans, as the workflow would (one per process)."""

    def __init__(self, world: World) -> None:
        self.world = world
        by_code = {code: tid for tid, code in world.tenant_codes.items()}
        self._tenant_ids = by_code
        self._tenants: dict[str, Tenant] = {world.county.code: world.county}
        if world.city is not None:
            self._tenants[world.city.code] = world.city
        # pure functions of the pinned documents, asked again for every case: answered once
        self._classes: dict[tuple[str, str, str], tuple[str, str | None, Any]] = {}
        self._roles: dict[tuple[Role, str], str] = {}

    def open(self, plan: Plan, *, case_id: uuid.UUID, sequence: int) -> Built:
        """``do_report`` for a plan's report (no duplicate: plans keep same-class reports apart)."""
        w, report = self.world, plan.report
        key = (report.kind, report.code, report.urgency)
        if (known := self._classes.get(key)) is None:
            class_name, maps_to = class_of(w.docs[Kind.CATALOG], report.kind, report.code)
            rule = rule_of(w.docs[Kind.MANUAL], report.kind, report.code, maps_to, report.urgency)
            known = self._classes[key] = (class_name, maps_to, rule)
        class_name, _, rule = known
        place = w.place(report.lon, report.lat)
        if place is None:
            raise InvalidInput(f"the location is outside {w.county.name} ({w.county.code})")
        klass = w.klass(report.kind, report.code)
        suggestion = w.suggest(klass, place, report.lon, report.lat, report.component_id)
        case = new_case(
            w.county,
            report,
            case_id=case_id,
            sequence=sequence,
            now=plan.at,
            docs=w.docs,
            class_name=class_name,
            rule=rule,
            place=place,
            suggestion=suggestion,
            acting_user=plan.by,
            factory=cast("Callable[..., Case]", CaseRow),
        )
        reason, data = report_event(case, w.calendar)
        built = Built(case, [])
        self._event(built, "report", None, case.state, plan.by, None, None, reason, data, plan.at)
        return built

    def apply(self, built: Built, move: Move) -> None:
        """``do_action`` for one move (and auto-dispatch after filing, as ``do_action`` does)."""
        case = built.case
        state = State(case.state)
        step = transition(state, move.action)
        if step is None:
            raise Conflict(f"{move.action} cannot be taken on a case that is {state.value}")
        role = self._role(move, step.action, case)
        given = move.given
        found = given_fields(step.action, given)
        if Needs.UNIT in step.action.needs:
            found["unit"] = self._unit(case, given)
        calendar = self.world.calendar if move.action in CLOCKED else NO_CALENDAR
        target, data = apply_step(case, step, given, found, move.at, calendar)
        reason = found.get("reason") or found.get("feedback")
        self._event(
            built,
            move.action,
            state.value,
            target.value,
            move.actor,
            role,
            move.tenant,
            reason,
            data,
            move.at,
        )
        if move.action == "file" and case.limits.get("auto_dispatch") and case.suggestion.get("unit_code"):
            system = Move("dispatch", move.at, "system:auto-dispatch", Role.DISPATCHER, move.tenant)
            self.apply(built, system)

    def _role(self, move: Move, action: Action, case: Case) -> str:
        """``role_of`` the move's actor: it depends on the role and the action only (kept)."""
        key = (move.role, action.name)
        if (role := self._roles.get(key)) is None:
            role = self._roles[key] = role_of(actor_of_move(move, self._tenants[move.tenant], case), action)
        return role

    def _unit(self, case: Case, given: Given) -> Any:
        if given.unit is not None:
            tenant_id, code = self._tenant_ids[given.unit[0]], given.unit[1]
        else:
            tenant_id, code = uuid.UUID(case.suggestion["unit_tenant_id"]), case.suggestion["unit_code"]
        return self.world.units[(tenant_id, code)]

    def _event(
        self,
        built: Built,
        action: str,
        source: str | None,
        target: str,
        actor: str,
        role: str | None,
        tenant: str | None,
        reason: str | None,
        data: dict[str, Any],
        at: datetime,
    ) -> None:
        case = built.case
        built.events.append(
            {
                "tenant_id": case.tenant_id,
                "case_id": case.id,
                "seq": len(built.events) + 1,
                "at": at,
                "actor": actor,
                "actor_role": role,
                "actor_tenant": tenant,
                "action": action,
                "from_state": source,
                "to_state": target,
                "reason": reason,
                "data": data,
            }
        )
        case.version = len(built.events)  # one version per flush: the insert, then each action

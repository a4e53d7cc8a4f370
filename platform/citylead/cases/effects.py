"""What each action does to a case besides its state (案卷操作的效果): clocks, unit, counters.

One small function per action, looked up in :data:`EFFECTS`; an action without an entry changes
only the state. Each returns what its event records besides the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from citylead.cases import deadlines
from citylead.cases.models import Case
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.standards.worktime import Limit, WorkCalendar, deadline

__all__ = ["CLOCKED", "CLOSING_TYPES", "EFFECTS", "Step", "limit_field"]

CLOSING_TYPES = {"normal": "正常结案", "overdue": "超期结案", "erroneous": "错误结案", "special": "特殊结案"}


@dataclass(frozen=True)
class Step:
    """One action being applied: the case, when, on which calendar, with what was checked."""

    case: Case
    now: datetime
    calendar: WorkCalendar
    found: dict[str, Any]  # what the needs produced: reason, feedback, duration, unit, city
    granted: str | None = None
    closing_type: str | None = None


def limit_field(value: str | None, field: str) -> Limit:
    """A positive time limit given in ``field``, else a 422 naming it."""
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


def _due(case: Case) -> dict[str, Any]:
    return {"due_at": case.due_at.isoformat() if case.due_at else None}


def _clock(step_name: str) -> Callable[[Step], dict[str, Any]]:
    def start(s: Step) -> dict[str, Any]:
        deadlines.start_clock(s.case, step_name, s.now, s.calendar)
        return _due(s.case)

    return start


def _stop(s: Step) -> dict[str, Any]:
    deadlines.stop_clock(s.case)
    return {}


def _ready_to_file(s: Step) -> dict[str, Any]:
    """受理 or 核实属实: the case waits to be filed (待立案); the filing limit (立案时限) starts."""
    return {**_stop(s), **deadlines.step_due(s.case, "file", s.now, s.calendar)}


def _queued(s: Step) -> dict[str, Any]:
    """The case enters a dispatch queue (待派遣): the dispatch limit (派遣时限) starts."""
    return deadlines.step_due(s.case, "dispatch", s.now, s.calendar)


def _file(s: Step) -> dict[str, Any]:
    s.case.filed_at = s.now
    return {**_stop(s), **_queued(s)}


def _dispatch(s: Step) -> dict[str, Any]:
    case, unit = s.case, s.found["unit"]
    before = case.unit_code
    case.unit_tenant_id, case.unit_code, case.unit_name = unit.tenant_id, unit.code, unit.name
    case.dispatched_at = s.now
    deadlines.start_clock(case, "dispose", s.now, s.calendar)
    unit_data = {"tenant_id": str(unit.tenant_id), "code": unit.code, "name": unit.name}
    return {"from_unit": before, "unit": unit_data, **_due(case)}


def _clear_unit(case: Case) -> None:
    case.unit_tenant_id = case.unit_code = case.unit_name = None


def _approve_return(s: Step) -> dict[str, Any]:
    s.case.return_count += 1
    returned_by = s.case.unit_code
    _clear_unit(s.case)
    deadlines.stop_clock(s.case)
    return {"returned_by": returned_by, **_queued(s)}


def _request_postpone(s: Step) -> dict[str, Any]:
    s.case.pending = {"postpone": str(s.found["duration"])}
    return {"duration": str(s.found["duration"])}


def _approve_postpone(s: Step) -> dict[str, Any]:
    """延期: the clock stops for the granted working time from now (at most what was asked)."""
    asked = Limit.parse(s.case.pending.get("postpone", "0wmin"))
    granted = limit_field(s.granted, "granted") if s.granted else asked
    if granted.duration(s.calendar) > asked.duration(s.calendar):
        raise InvalidInput(
            "a postponement cannot grant more than was asked",
            errors=[FieldProblem("granted", f"must be at most {asked}", s.granted)],
        )
    deadlines.pause(s.case, s.now, deadline(s.now, granted, s.calendar), s.calendar)
    s.case.postpone_count += 1
    return {"granted": str(granted), **_due(s.case)}


def _approve_park(s: Step) -> dict[str, Any]:
    deadlines.pause(s.case, s.now, None, s.calendar)  # 挂账: stopped until resumed
    return {}


def _resume(s: Step) -> dict[str, Any]:
    deadlines.resume(s.case, s.now, s.calendar)
    return _due(s.case)


def _dispose(s: Step) -> dict[str, Any]:
    case = s.case
    case.disposed_at = s.now
    case.dispose_overdue = case.step == "dispose" and case.due_at is not None and s.now > case.due_at
    deadlines.stop_clock(case)
    return {"feedback": s.found["feedback"], "overdue": case.dispose_overdue}


def _rework(s: Step) -> dict[str, Any]:
    s.case.rework_count += 1  # 返工: a fresh disposal clock
    deadlines.start_clock(s.case, "dispose", s.now, s.calendar)
    return _due(s.case)


def _close(s: Step) -> dict[str, Any]:
    case = s.case
    kind = s.closing_type or ("overdue" if case.dispose_overdue else "normal")
    if kind not in CLOSING_TYPES:
        raise InvalidInput(
            "unknown closing type",
            errors=[FieldProblem("closing_type", f"must be one of {', '.join(CLOSING_TYPES)}", kind)],
        )
    case.closing_type, case.closed_at = kind, s.now
    deadlines.stop_clock(case)
    return {"closing_type": kind}


def _escalate(s: Step) -> dict[str, Any]:
    city: Tenant = s.found["city"]
    s.case.command_tenant_id = city.id  # the city's command centre now holds the case
    _clear_unit(s.case)
    return {"to": city.code, **_queued(s)}


def _send_back(s: Step) -> dict[str, Any]:
    s.case.command_tenant_id = s.case.tenant_id
    return _queued(s)


def _settle(s: Step) -> dict[str, Any]:
    s.case.pending = {}  # an approve_* or deny_* answers the open request
    return {}


EFFECTS: dict[str, Callable[[Step], dict[str, Any]]] = {
    "send_verify": _clock("verify"),
    "send_check": _clock("check"),
    "accept": _ready_to_file,
    "refuse": _stop,
    "verify": _ready_to_file,
    "verify_false": _stop,
    "void": _stop,
    "check_pass": _stop,
    "file": _file,
    "dispatch": _dispatch,
    "redispatch": _dispatch,
    "approve_return": lambda s: {**_settle(s), **_approve_return(s)},
    "deny_return": _settle,
    "request_postpone": _request_postpone,
    "approve_postpone": lambda s: {**_approve_postpone(s), **_settle(s)},
    "deny_postpone": _settle,
    "approve_park": lambda s: {**_settle(s), **_approve_park(s)},
    "deny_park": _settle,
    "resume": _resume,
    "dispose": _dispose,
    "self_handle": _dispose,
    "check_fail": _rework,
    "close": _close,
    "escalate": _escalate,
    "send_back": _send_back,
}

# Actions that start, pause or resume a clock, or pin the deadline of the filing or dispatch step,
# read the case's pinned calendar; the others do not (so a unit in another county, which cannot
# read the case county's standards, can still act).
CLOCKED = frozenset(
    {
        "send_verify",
        "send_check",
        "dispatch",
        "redispatch",
        "approve_postpone",
        "approve_park",
        "resume",
        "check_fail",
        "accept",
        "verify",
        "file",
        "escalate",
        "send_back",
        "approve_return",
    }
)

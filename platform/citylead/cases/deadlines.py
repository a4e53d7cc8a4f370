"""Clocks (计时) in working time on the case's pinned calendar.

A case runs at most one clock at a time: ``verify`` (核实, from sending the task), ``dispose``
(处置, from dispatch) or ``check`` (核查, from sending the task). Its limit was pinned at intake
from the standards in force then, so a later publish never moves a running deadline. Time in an
approved postponement (延期: a pause as long as the granted time) or parked (挂账: a pause until
resumed) does not count.

Two steps run no clock on the case but have a deadline all the same, pinned on the event that
starts them (:func:`step_due`): ``file`` (立案时限, from the moment the case is ready to file) and
``dispatch`` (派遣时限, from the moment it enters a dispatch queue). The assessment compares the
``file`` and ``dispatch`` events with them (按时立案率, 按时派遣率).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from citylead.cases.models import Case
from tenants.standards.layers import Effective
from tenants.standards.views import ClassRule, limit_at
from tenants.standards.worktime import Interval, Light, Limit, WorkCalendar, deadline

__all__ = [
    "Clock",
    "clock_of",
    "pause",
    "pauses_of",
    "pinned_limits",
    "resume",
    "start_clock",
    "step_due",
    "stop_clock",
]

FAR = datetime(9999, 1, 1, tzinfo=UTC)


def pinned_limits(rule: ClassRule, urgency: str, calendar_doc: Effective) -> dict[str, object]:
    """What a case keeps of its class's rule: the limits of each clock and step, and the stages."""
    return {
        "dispose": str(limit_at(rule, urgency, calendar_doc)),
        "verify": str(rule.verify),
        "check": str(rule.check),
        **_step_limits(rule),
        "stages": [[name, str(limit)] for name, limit in rule.stages],
        "auto_dispatch": rule.auto_dispatch,
        "set_by": {k: f"{v.code} v{v.version}" for k, v in rule.sources.items()},
    }


def _step_limits(rule: ClassRule) -> dict[str, str]:
    """The filing and dispatch limits the rule has (a manual published before they existed has none)."""
    steps = {"file": rule.file, "dispatch": rule.dispatch}
    return {step: str(limit) for step, limit in steps.items() if limit is not None}


def step_due(case: Case, step: str, at: datetime, calendar: WorkCalendar) -> dict[str, str]:
    """``{"due_at": …}``: the deadline of the clockless step ``step`` (``file`` 立案, ``dispatch``
    派遣) started at ``at``, from the case's pinned limit; ``{}`` when the case pinned none (its
    manual had no such limit at intake: the step is then not timed)."""
    limit = case.limits.get(step)
    if limit is None:
        return {}
    return {"due_at": deadline(at, Limit.parse(str(limit)), calendar).isoformat()}


def pauses_of(case: Case) -> list[Interval]:
    """The case's pauses; an open one (parked) runs to the far future."""
    out: list[Interval] = []
    for start, end in case.paused:
        assert start is not None
        begin = datetime.fromisoformat(start)
        out.append((begin, datetime.fromisoformat(end) if end else FAR))
    return out


WARN = Decimal("0.8")  # the timer turns yellow when 80 % of the limit is used


def _set_due(case: Case, calendar: WorkCalendar) -> None:
    """Recompute the deadline and the yellow-light instant (None while parked: no deadline)."""
    if (
        case.step is None
        or case.step_started_at is None
        or case.step_limit is None
        or any(end is None for _, end in case.paused)
    ):
        case.due_at = case.warn_at = None
        case.stage_due = [[name, None] for name, _ in case.stage_due]
        return
    limit, paused = Limit.parse(case.step_limit), pauses_of(case)
    case.due_at = deadline(case.step_started_at, limit, calendar, paused=paused)
    if case.step == "dispose":  # staged classes (违法建设): each stage counted from dispatch
        case.stage_due = [
            [name, deadline(case.step_started_at, Limit.parse(stage), calendar, paused=paused).isoformat()]
            for name, stage in case.limits.get("stages", [])
        ]
    case.warn_at = deadline(
        case.step_started_at, Limit(limit.amount * WARN, limit.unit), calendar, paused=paused
    )


def start_clock(case: Case, step: str, at: datetime, calendar: WorkCalendar) -> None:
    """Start the ``step`` clock at ``at`` with the case's pinned limit for it (earlier pauses end)."""
    case.step, case.step_started_at, case.step_limit = step, at, str(case.limits[step])
    case.paused = []
    case.overdue = False
    _set_due(case, calendar)


def stop_clock(case: Case) -> None:
    case.step = case.step_started_at = case.step_limit = case.due_at = case.warn_at = None
    case.stage_due = []
    case.paused = []
    case.overdue = False


def pause(case: Case, start: datetime, end: datetime | None, calendar: WorkCalendar) -> None:
    """Stop the running clock from ``start`` to ``end`` (None: until :func:`resume`)."""
    case.paused = [*case.paused, [start.isoformat(), end.isoformat() if end else None]]
    _set_due(case, calendar)


def resume(case: Case, at: datetime, calendar: WorkCalendar) -> None:
    case.paused = [[s, e if e is not None else at.isoformat()] for s, e in case.paused]
    _set_due(case, calendar)


@dataclass(frozen=True)
class Clock:
    step: str
    started_at: datetime
    limit: str
    due_at: datetime | None
    paused: Sequence[Interval]
    light: Light
    running: bool
    stages: list[tuple[str, datetime | None]]


def clock_of(case: Case, now: datetime) -> Clock | None:
    """The running clock with its timer light (绿灯/黄灯/红灯) at ``now``, from the instants stored
    when it started or paused (so reading a case needs no calendar)."""
    if case.step is None or case.step_started_at is None or case.step_limit is None:
        return None
    paused = pauses_of(case)
    running = not any(a <= now < b for a, b in paused)
    if case.due_at is not None and now > case.due_at:
        light = Light.RED
    elif case.warn_at is not None and now >= case.warn_at:
        light = Light.YELLOW
    else:
        light = Light.GREEN
    stages = [(str(name), datetime.fromisoformat(due) if due else None) for name, due in case.stage_due]
    return Clock(
        case.step, case.step_started_at, case.step_limit, case.due_at, paused, light, running, stages
    )

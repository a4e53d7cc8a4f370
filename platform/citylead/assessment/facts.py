"""Per-case assessment facts (考核事实): what one case contributes to the counters, and when.

:func:`case_facts` turns one case's events (in ``seq`` order) and its place into a few
:class:`Fact` rows; it is pure. Each fact is placed in a period by its instant ``at`` (the event's
time, or the task's or disposal clock's ``due_at``), names the subjects it counts for (the case's
regions, one post, one department unit) and holds the counts it adds. Summing the facts whose
``at`` falls in a period, per subject, gives exactly the counters docs/assessment.md defines
(attribution, clocks, closing); :mod:`citylead.assessment.rollup` does that in SQL.

Every subject type reads only its own counters from the facts that name it
(:data:`REGION_COUNTERS`, :data:`POST_COUNTERS`, :data:`DEPARTMENT_COUNTERS`), so one fact can
serve several: a ``dispatch`` counts 派遣数 for the regions and the dispatcher, 工作量 for the
dispatcher (their own event) and for the unit (the clock it starts). A region's 工作量 is its
立案数, read from ``filed``.

A filing counts for the shift lead who filed and for the intake operator who registered the case
(``accept`` or ``send_verify``): the intake scheme's 按时立案率 is how fast the reports they let
through reach filing. A ``file`` is on time (按时立案) when it is at or before the ``due_at``
pinned by the event that made the case ready to file (:data:`READY_TO_FILE`); a ``dispatch``
(按时派遣), when it is at or before the ``due_at`` pinned by the event that last put the case
in a dispatch queue (:data:`READY_TO_DISPATCH`). Events written before those limits existed pin
none: such a filing or dispatch counts on time, as it always did.

``overdue_pending`` (超期待处置数) is the one count that depends on the period's end: a clock
counts when it was not disposed by then. Its fact keeps ``pending_until`` (the disposal's
instant; ``None``: never disposed), and it counts when ``pending_until`` is ``None`` or not before
the period's end.

The facts of a case change only when events are added to it (case events are append-only, and
a case's grid, street and source are fixed at intake); the rollup rebuilds them then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime

from citylead.assessment.counters import Counters
from citylead.cases.models import Source

__all__ = [
    "COUNTERS",
    "DEPARTMENT_COUNTERS",
    "POSTS",
    "POST_COUNTERS",
    "READY_TO_DISPATCH",
    "READY_TO_FILE",
    "REGION_COUNTERS",
    "Event",
    "Fact",
    "Place",
    "case_facts",
]

POSTS = frozenset({"supervisor", "intake", "shift_lead", "dispatcher"})
_PUBLIC = frozenset(s.value for s in Source if s.public)
_INTAKE = frozenset({"accept", "send_verify", "refuse"})
_CLOCK_START = frozenset({"dispatch", "redispatch", "check_fail"})
_CLOCK_END = frozenset({"dispose", "redispatch", "approve_return", "check_fail"})
_WRONG_UNIT = frozenset({"approve_return", "redispatch"})
READY_TO_FILE = frozenset({"report", "accept", "verify"})
"""Events after which a case waits to be filed (待立案): their ``due_at`` is the filing deadline."""
READY_TO_DISPATCH = frozenset({"file", "escalate", "send_back", "approve_return"})
"""Events after which a case waits in a dispatch queue (待派遣): their ``due_at`` is the dispatch
deadline."""
_ANSWERS = {
    "send_verify": ("verify", ("verify", "verify_false")),
    "send_check": ("check", ("check_pass", "check_fail")),
}

COUNTERS = tuple(f.name for f in fields(Counters))
REGION_COUNTERS = tuple(c for c in COUNTERS if c != "volume")
"""What a county, street or grid reads from its facts; its ``volume`` is its ``filed``."""
POST_COUNTERS = (
    *("reports", "valid_reports", "filed", "voided", "filed_on_time", "verify_due", "verified_on_time"),
    *("check_due", "checked_on_time", "dispatched", "dispatched_on_time", "returned_wrong_unit", "volume"),
)
"""What a post (supervisor, intake operator, shift lead, dispatcher) reads from its facts."""
DEPARTMENT_COUNTERS = (
    *("due_for_disposal", "disposed", "disposed_on_time", "overdue_pending", "postponed", "rework"),
    *("reworked_disposals", "due_to_close", "closed", "closed_on_time", "deferred_approved"),
    *("deferred_closed_on_time", "volume"),
)
"""What a department unit reads from its facts."""


@dataclass(frozen=True, slots=True)
class Event:
    """The columns of one case event the facts need (``case_events`` and its ``data``)."""

    at: datetime
    actor: str
    actor_role: str | None
    action: str
    due_at: datetime | None = None  # data.due_at: the deadline of the task, clock or step it starts
    unit_tenant: str | None = None  # data.unit.tenant_id
    unit_code: str | None = None  # data.unit.code
    overdue: bool = False  # data.overdue
    closing_type: str | None = None  # data.closing_type


@dataclass(frozen=True, slots=True)
class Place:
    """Where a case is and who reported it (fixed at intake)."""

    grid: str | None
    street: str | None
    source: str


@dataclass
class Fact:
    """Counts one case adds at ``at`` for its regions (``regions``), a post and a unit."""

    at: datetime
    regions: bool = False
    post: tuple[str, str] | None = None  # (post, username)
    unit: str | None = None  # TENANT:UNIT
    pending_until: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        if n:
            self.counts[name] = self.counts.get(name, 0) + n


@dataclass
class _Clock:
    unit: str
    started: datetime
    due: datetime | None
    ended_by: str | None = None
    overdue: bool = False
    postponed: bool = False
    reworked: bool = False  # its disposal was rejected on check (the next clock is a check_fail's)


def _clocks(events: Sequence[Event], codes: Mapping[str, str]) -> tuple[list[_Clock], dict[int, str]]:
    """处置 clocks in order, and the unit of the clock each clock-starting event (by index) started."""
    clocks: list[_Clock] = []
    started: dict[int, str] = {}
    unit = ""
    for i, e in enumerate(events):
        if clocks and clocks[-1].ended_by is None:
            running = clocks[-1]
            if e.action in ("approve_postpone", "resume"):
                running.due = e.due_at
                running.postponed |= e.action == "approve_postpone"
            elif e.action == "approve_park":
                running.due = None
            if e.action in _CLOCK_END:
                running.ended_by, running.overdue = e.action, e.overdue
        if e.action in ("dispatch", "redispatch"):
            unit = f"{codes.get(str(e.unit_tenant), e.unit_tenant)}:{e.unit_code}"
        if e.action == "check_fail" and clocks and clocks[-1].ended_by == "dispose":
            clocks[-1].reworked = True
        if e.action in _CLOCK_START:
            clocks.append(_Clock(unit, e.at, e.due_at))
            started[i] = unit
    return clocks, started


def case_facts(events: Sequence[Event], place: Place, codes: Mapping[str, str]) -> list[Fact]:
    """The facts of one case: ``events`` in ``seq`` order, ``codes`` maps unit tenant ids to codes."""
    actions = {e.action for e in events}
    valid, voided = int("file" in actions and "void" not in actions), int("void" in actions)
    clocks, started = _clocks(events, codes)
    on_time = _on_time(events)
    facts: list[Fact] = []
    credit: Fact | None = None
    for i, e in enumerate(events):
        post = (e.actor_role, e.actor) if e.actor_role in POSTS else None
        fact = Fact(e.at, post=post)
        fact.add("volume", int(post is not None))  # a post's own event
        if e.action == "report" and place.source == Source.SUPERVISOR.value:
            reporter = ("supervisor", e.actor)  # a report event carries no role
            if post in (None, reporter):
                fact.post, target = reporter, fact
            else:  # a report entered by another post: the reporter's row apart
                target = Fact(e.at, post=reporter)
                facts.append(target)
            target.regions = True
            target.add("reports")
            target.add("valid_reports", valid)
            target.add("volume")
        elif e.action in _INTAKE and e.actor_role == "intake":
            fact.regions = True
            fact.add("reports")
            fact.add("valid_reports", valid)
        elif e.action == "file":
            fact.regions = True
            fact.add("filed")
            fact.add("filed_on_time", int(on_time[i]))
            fact.add("voided", voided)
            fact.add("missed_reports", int(place.source in _PUBLIC))
            if (registrar := _registrar(events[:i])) is not None and registrar != post:
                credit = Fact(e.at, post=registrar)  # the intake operator's 按时立案, after this one
                credit.add("filed")
                credit.add("filed_on_time", int(on_time[i]))
        elif e.action == "dispatch":
            fact.regions = True
            fact.add("dispatched")
            fact.add("dispatched_on_time", int(on_time[i]))
            fact.add("returned_wrong_unit", int(any(x.action in _WRONG_UNIT for x in events[i + 1 :])))
        if i in started:  # the unit's 工作量: the clock this event starts (a post's own event is 1 too)
            fact.unit = started[i]
            fact.counts["volume"] = 1
        if fact.regions or fact.post or fact.unit:
            facts.append(fact)
        if credit is not None:
            facts.append(credit)
            credit = None
    facts += _task_facts(events)
    facts += _clock_facts(events, clocks)
    return facts


def _registrar(before: Sequence[Event]) -> tuple[str, str] | None:
    """The intake operator who registered the case (their last ``accept`` or ``send_verify``):
    a filing counts for them too (立案数, 按时立案数), since the filing clock starts with their
    registration. None for a case no intake operator handled (a supervisor's report)."""
    found = [e for e in before if e.action in ("accept", "send_verify") and e.actor_role == "intake"]
    return ("intake", found[-1].actor) if found else None


def _on_time(events: Sequence[Event]) -> dict[int, bool]:
    """Each ``file`` and ``dispatch`` (by index): at or before the deadline of its step (立案时限,
    派遣时限), pinned by the last event that started the step; True where none was pinned."""
    due: dict[str, datetime | None] = {"file": None, "dispatch": None}
    out: dict[int, bool] = {}
    for i, e in enumerate(events):
        if e.action in due:
            step_due = due[e.action]
            out[i] = step_due is None or e.at <= step_due
        if e.action in READY_TO_FILE:
            due["file"] = e.due_at
        if e.action in READY_TO_DISPATCH:
            due["dispatch"] = e.due_at
    return out


def _task_facts(events: Sequence[Event]) -> list[Fact]:
    """核实 and 核查 tasks: due at ``due_at``, on time when answered at or before it."""
    facts = []
    for i, e in enumerate(events):
        if e.action not in _ANSWERS or e.due_at is None:
            continue
        name, answers = _ANSWERS[e.action]
        answer = next((x for x in events[i + 1 :] if x.action in answers), None)
        post = (answer.actor_role, answer.actor) if answer and answer.actor_role in POSTS else None
        fact = Fact(e.due_at, regions=True, post=post)
        fact.add(f"{name}_due")
        on_time = answer is not None and answer.at <= e.due_at
        fact.add("verified_on_time" if name == "verify" else "checked_on_time", int(on_time))
        facts.append(fact)
    return facts


def _clock_facts(events: Sequence[Event], clocks: list[_Clock]) -> list[Fact]:
    """Disposal clocks due at their final ``due_at``, and the case's closing with its last clock."""
    facts: list[Fact] = []
    fact: Fact | None = None
    for clock in clocks:
        fact = None
        if clock.due is None or clock.ended_by in ("redispatch", "approve_return"):
            continue  # a clock taken away from a wrong unit is the dispatcher's error, not the unit's
        disposed = clock.ended_by == "dispose"
        end = next((e.at for e in events if e.action == "dispose" and e.at >= clock.started), None)
        fact = Fact(clock.due, regions=True, unit=clock.unit, pending_until=end if disposed else None)
        fact.add("due_for_disposal")
        fact.add("disposed", int(disposed))
        fact.add("disposed_on_time", int(disposed and not clock.overdue))
        fact.add("reworked_disposals", int(disposed and clock.reworked))
        fact.add("postponed", int(clock.postponed))
        fact.add("overdue_pending")  # unless disposed before the period's end (pending_until)
        facts.append(fact)
    last = clocks[-1] if clocks else None
    if last is None or last.due is None:
        return facts
    closing = fact or Fact(last.due, regions=True, unit=last.unit)  # with the last clock's fact
    if fact is None:
        facts.append(closing)
    close = next((e for e in events if e.action == "close"), None)
    deferred = any(e.action == "approve_postpone" for e in events)
    on_time = close is not None and close.closing_type == "normal"
    closing.add("due_to_close")
    closing.add("closed", int(close is not None))
    closing.add("closed_on_time", int(on_time))
    closing.add("deferred_approved", int(deferred))
    closing.add("deferred_closed_on_time", int(deferred and on_time))
    closing.add("rework", int(any(e.action == "check_fail" for e in events)))
    return facts

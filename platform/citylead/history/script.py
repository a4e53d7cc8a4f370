"""The seeded script of a division-month (演示历史脚本): which cases are reported, where, by whom,
and what happens to each, move by move, with realistic timing in working time.

Planning runs the case through the :class:`Simulation` as it goes, so each move is timed against
the deadlines the workflow computes (a disposal on time lands before ``due_at``, a late one
after). The plans are plain data: the real path replays them through ``do_report`` /
``do_action``; the bulk path keeps what the simulation built. Same seed, same plans.

The mix (per case; see docs/history.md): sources 70 % supervisor, 8 % video, 12 % 12345, 4 %
12319, 6 % app; public reports are mostly sent to verify (some refused or found false); filed and
dispatched within their limits, some late; some voided, 4 % self-handled by the reporting
supervisor; after dispatch 3 % redispatched, 3 % asked to be returned, some postponed or parked;
disposals on time, late, after the month's end or never; some fail the check (rework) once. How
often the division's posts and each department unit fall short comes from the division's seeded
profile (:mod:`citylead.history.profile`), month by month.
"""

from __future__ import annotations

import contextlib
import math
import random
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from citylead.cases.deadlines import pauses_of
from citylead.cases.duplicates import metres
from citylead.cases.intake import Report
from citylead.cases.models import Case, Source
from citylead.cases.workflow import State
from citylead.geography.index import Place
from citylead.history.profile import USUAL, Mix, profile_of, unit_offset
from citylead.history.simulate import Built, Move, Plan, Simulation
from citylead.history.world import Klass, World
from citylead.identity.principal import Role
from citylead.units.models import Unit, UnitKind
from tenants.standards.worktime import Interval, Limit, deadline
from tenants.standards.worktime import Unit as TimeUnit

__all__ = ["EXTERNAL_PREFIX", "USUAL", "Mix", "MonthPlanner", "crowded", "external_id"]

_SPHERE_M = 6_371_000  # the radius duplicates.metres counts with

EXTERNAL_PREFIX = "demo:"  # generated cases carry external_id "demo:YYYY-MM:NNNNNNN"
SOURCES = {
    Source.SUPERVISOR: 70,
    Source.VIDEO: 8,
    Source.HOTLINE_12345: 12,
    Source.HOTLINE_12319: 4,
    Source.APP: 6,
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
PHRASES = ("", "，影响通行", "，群众反映强烈", "，已持续数日", "，存在安全隐患")
_SOURCES = list(SOURCES)
_SOURCE_WEIGHTS = list(accumulate(SOURCES.values()))


def external_id(month: str, n: int) -> str:
    return f"{EXTERNAL_PREFIX}{month}:{n:07d}"


@dataclass(slots=True)
class _Seen:
    lon: float
    lat: float
    at: datetime


class _Stop(Exception):
    """The next move would fall after the horizon: the case stays where it is."""


class MonthPlanner:
    """Plans (and simulates) the cases of one division, month after month, from one seed."""

    def __init__(self, sim: Simulation, *, seed: str, horizon: datetime, mix: Mix = USUAL) -> None:
        self.sim, self.world, self.horizon, self.base, self.seed = sim, sim.world, horizon, mix, seed
        self.rng = random.Random(f"{seed}:{sim.world.county.code}")  # noqa: S311 - demo data
        w = self.world
        self.profile = profile_of(seed, w.county.code)
        self.month = ""
        self.mix = mix  # the month's mix (the division's posts): set by plan_month
        self.offsets: dict[tuple[uuid.UUID, str], float] = {}
        self.matters = [k for k in w.classes if k.kind == "matter"]
        self.components = [k for k in w.classes if k.kind == "component"]
        # a stable, seeded popularity: a few classes make most reports, as in real centres
        self.rng.shuffle(self.matters)
        self.rng.shuffle(self.components)
        # cumulative weights, as random.choices accumulates them from 1, 1/2, 1/3, … on each call
        self.matter_weights = list(accumulate(1 / (i + 1) for i in range(len(self.matters))))
        self.component_weights = list(accumulate(1 / (i + 1) for i in range(len(self.components))))
        self.code = w.county.code
        self.spans: dict[tuple[str, str], timedelta] = {}
        self.objects: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
        for o in w.objects:
            if not o.removed and w.index.inside(o.lon, o.lat):
                self.objects[o.class_code].append((o.ref.object_id, o.lon, o.lat))
        self.seen: dict[tuple[str, str], deque[_Seen]] = defaultdict(deque)
        self.last = datetime.min.replace(tzinfo=w.calendar.tz)
        county_units = [u for (tid, _), u in sorted(w.units.items()) if tid == w.county.id]
        self.sector_units = [u for u in county_units if u.kind == UnitKind.SECTOR.value]
        self.fallback = (self.sector_units or county_units)[0]
        self.streets_units = {u.street_code: u for u in county_units if u.kind == UnitKind.TERRITORIAL.value}

    # ---- time -------------------------------------------------------------------------------

    def _after(self, t: datetime, lo: float, hi: float) -> datetime:
        """A moment ``lo``–``hi`` working minutes after ``t`` (whole seconds), before the horizon."""
        calendar = self.world.calendar
        minutes = round(self.rng.uniform(lo, hi), 2)
        local = t.astimezone(calendar.tz)
        end = local + timedelta(minutes=minutes)
        same_day = (
            not calendar.closures and end.date() == local.date() and calendar.is_working_day(local.date())
        )
        # within one working period the deadline is plain addition (the common case, cheap)
        if same_day and any(a <= local.time() < b and end.time() <= b for a, b in calendar.hours):
            return self._check(end, t)
        limit = Limit(Decimal(str(minutes)), TimeUnit.WORKING_MINUTES)
        return self._check(deadline(t, limit, calendar), t)

    def _into_clock(self, built: Built, t: datetime, lo: float, hi: float) -> datetime:
        """A moment at ``lo``–``hi`` of the running clock's limit (over 1: late), after ``t``."""
        case = built.case
        assert case.step_started_at is not None
        assert case.step_limit is not None
        return self._into(case.step_started_at, Limit.parse(case.step_limit), t, lo, hi, pauses_of(case))

    def _into_step(self, built: Built, step: str, t: datetime, late: float) -> datetime:
        """The moment a clockless step (``file`` 立案, ``dispatch`` 派遣) started at ``t`` ends: late
        (1.1–2.5 × its pinned limit) with probability ``late``, else within 0.1–0.9 of it; 5–45
        working minutes after ``t`` for a case that pinned no limit for it."""
        limit = built.case.limits.get(step)
        if limit is None:
            return self._after(t, 5, 45)
        lo, hi = (1.1, 2.5) if self.rng.random() < late else (0.1, 0.9)
        return self._into(t, Limit.parse(limit), t, lo, hi)

    def _into(
        self,
        start: datetime,
        limit: Limit,
        t: datetime,
        lo: float,
        hi: float,
        paused: Sequence[Interval] = (),
    ) -> datetime:
        """A moment at ``lo``–``hi`` of ``limit`` counted from ``start`` (over 1: late), after ``t``."""
        part = Decimal(str(round(self.rng.uniform(lo, hi), 3)))
        at = deadline(start, Limit(limit.amount * part, limit.unit), self.world.calendar, paused=paused)
        return self._check(max(at, t + timedelta(minutes=1)), t)

    def _check(self, at: datetime, previous: datetime) -> datetime:
        at = at.replace(microsecond=0)
        previous = max(previous, self.last)
        if at <= previous:
            at = previous.replace(microsecond=0) + timedelta(seconds=1)
        if at > self.horizon:
            raise _Stop
        return at

    # ---- who --------------------------------------------------------------------------------

    def _post(self, role: Role) -> tuple[str, Role, str]:
        return self.rng.choice(self.world.posts[role]), role, self.code

    def _department(self, built: Built) -> tuple[str, Role, str]:
        case = built.case
        assert case.unit_tenant_id is not None
        assert case.unit_code is not None
        unit = self.world.units[(case.unit_tenant_id, case.unit_code)]
        code = self.world.tenant_codes[unit.tenant_id]
        return (unit.accounts[0] if unit.accounts else f"department@{code}"), Role.DEPARTMENT, code

    def _unit_ref(self, unit: Unit) -> tuple[str, str]:
        return self.world.tenant_codes[unit.tenant_id], unit.code

    # ---- a month ----------------------------------------------------------------------------

    def plan_month(
        self, month: str, start: datetime, end: datetime, n: int, ids: list[tuple[uuid.UUID, int]]
    ) -> list[tuple[Plan, Built]]:
        """``n`` cases reported in ``[start, min(end, horizon))``; ``ids`` gives each its id and
        case-number sequence. Returns the plans and what the simulation built for them."""
        stop = min(end, self.horizon)
        self.month, self.mix = month, self.profile.mix(self.base, month)
        seconds = max(int((stop - start).total_seconds()), 1)
        moments = sorted(start + timedelta(seconds=self.rng.randrange(seconds)) for _ in range(n))
        out = []
        for i, (at, (case_id, sequence)) in enumerate(zip(moments, ids, strict=True)):
            plan = self._report(month, i + 1, at)
            self.last = plan.at
            built = self.sim.open(plan, case_id=case_id, sequence=sequence)
            with contextlib.suppress(_Stop):
                self._life(plan, built)
            out.append((plan, built))
        return out

    def _report(self, month: str, n: int, at: datetime) -> Plan:
        rng, w = self.rng, self.world
        source = rng.choices(_SOURCES, cum_weights=_SOURCE_WEIGHTS)[0]
        for _ in range(20):
            component = rng.random() < self.mix.component and bool(self.components)
            if component:
                klass = rng.choices(self.components, cum_weights=self.component_weights)[0]
            else:
                klass = rng.choices(self.matters, cum_weights=self.matter_weights)[0]
            spot = self._spot(klass, at)
            if spot is not None:
                break
        else:
            raise RuntimeError(f"no free place for a report in {w.county.code}")
        lon, lat, component_id, place = spot
        urgency = (
            "normal" if "normal" in klass.urgencies and rng.random() < 0.85 else rng.choice(klass.urgencies)
        )
        public = source.public
        reporter = (
            {"name": f"{rng.choice(SURNAMES)}{'女士' if rng.random() < 0.5 else '先生'}"} if public else {}
        )
        where = place.community_name or place.street_name or w.county.name
        report = Report(
            klass.kind,
            klass.code,
            lon,
            lat,
            f"{where}{klass.name}{rng.choice(PHRASES)}",
            urgency=urgency,
            source=source,
            address=f"{place.street_name or ''}{place.community_name or ''}附近",
            reporter=reporter,
            component_id=component_id,
            external_id=external_id(month, n),
        )
        by = self._post(Role.SUPERVISOR if source is Source.SUPERVISOR else Role.INTAKE)[0]
        return Plan(report, at.replace(microsecond=0), by)

    def _spot(self, klass: Klass, at: datetime) -> tuple[float, float, str | None, Place] | None:
        """A point for a report of ``klass``: an inventory object's place (a third of component
        reports) or a random point in a random grid; None if it would join an open case (plans
        keep reports of the same class apart by twice the duplicate radius within the window)."""
        rng, w = self.rng, self.world
        objects = self.objects.get(klass.code.split("-", 1)[0], [])
        component_id = None
        if klass.kind == "component" and objects and rng.random() < self.mix.on_object:
            component_id, lon, lat = rng.choice(objects)
        else:
            minx, miny, maxx, maxy = rng.choice(w.boxes)
            lon, lat = round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6)
        place = w.place(lon, lat)
        if place is None or place.grid_code is None:
            return None
        rule = klass.rule
        if (span := self.spans.get((klass.kind, klass.code))) is None:
            span = self.spans[(klass.kind, klass.code)] = _window_span(rule.duplicate_window, w)
        near = 2 * rule.duplicate_radius_m
        seen = self.seen[(klass.kind, klass.code)]
        while seen and seen[0].at < at - span:  # reports come in time order: forget the old ones
            seen.popleft()
        if crowded(seen, lon, lat, near):
            return None
        seen.append(_Seen(lon, lat, at))
        return lon, lat, component_id, place

    # ---- a life -----------------------------------------------------------------------------

    def _do(
        self, plan: Plan, built: Built, action: str, at: datetime, who: tuple[str, Role, str], **given: object
    ) -> None:
        move = Move(action, at, *who, **given)  # type: ignore[arg-type]
        plan.moves.append(move)
        self.last = at
        self.sim.apply(built, move)

    def _life(self, plan: Plan, built: Built) -> None:
        rng, case = self.rng, built.case
        t = plan.at
        if case.state == State.REPORTED.value:
            t = self._after(t, 5, 60)
            r = rng.random()
            if r < self.mix.refuse:
                return self._do(
                    plan, built, "refuse", t, self._post(Role.INTAKE), reason="非城市管理问题，已告知来电人"
                )
            if r < self.mix.refuse + self.mix.verify:
                self._do(plan, built, "send_verify", t, self._post(Role.INTAKE))
                late = rng.random() < self.mix.late_verify
                t = self._into_clock(built, t, 1.1, 2.5) if late else self._into_clock(built, t, 0.1, 0.9)
                if rng.random() < self.mix.verify_false:
                    return self._do(
                        plan, built, "verify_false", t, self._post(Role.SUPERVISOR), reason="现场核实无此问题"
                    )
                self._do(plan, built, "verify", t, self._post(Role.SUPERVISOR))
            else:
                self._do(plan, built, "accept", t, self._post(Role.INTAKE))
        t = self._into_step(built, "file", t, self.mix.late_file)
        if plan.report.source is Source.SUPERVISOR and rng.random() < self.mix.self_handle:
            who = (plan.by, Role.SUPERVISOR, self.code)
            self._do(plan, built, "self_handle", t, who, feedback="已现场自行处理")
            return self._close(plan, built, t)
        if rng.random() < self.mix.void:
            return self._do(plan, built, "void", t, self._post(Role.SHIFT_LEAD), reason="不属于立案范围")
        self._do(plan, built, "file", t, self._post(Role.SHIFT_LEAD))
        if case.state == State.FILED.value:
            t = self._into_step(built, "dispatch", t, self.mix.late_dispatch)
            if rng.random() < 0.005:
                return self._do(plan, built, "void", t, self._post(Role.SHIFT_LEAD), reason="重复立案")
            self._dispatch(plan, built, t)
        self._dispose_loop(plan, built, case.updated_at)

    def _usable(self, built: Built) -> bool:
        s = built.case.suggestion
        if not s.get("unit_code") or not s.get("unit_tenant_id"):
            return False
        return (uuid.UUID(s["unit_tenant_id"]), s["unit_code"]) in self.world.units and uuid.UUID(
            s["unit_tenant_id"]
        ) in (self.world.county.id, self.world.city.id if self.world.city else None)

    def _dispatch(self, plan: Plan, built: Built, t: datetime, *, avoid: str | None = None) -> None:
        unit = None if self._usable(built) and avoid is None else self._unit_ref(self._other(built, avoid))
        self._do(plan, built, "dispatch", t, self._post(Role.DISPATCHER), unit=unit)

    def _other(self, built: Built, avoid: str | None) -> Unit:
        """Another unit of the county: the street's territorial unit or a sector department."""
        options = [*self.sector_units]
        if (u := self.streets_units.get(built.case.street_code)) is not None:
            options.append(u)
        options = [u for u in options if u.code != avoid] or [self.fallback]
        return self.rng.choice(options)

    def _unit_mix(self, case: Case) -> Mix:
        """The month's mix for the work of the unit the case is assigned to (its own offset)."""
        assert case.unit_tenant_id is not None
        assert case.unit_code is not None
        key = (case.unit_tenant_id, case.unit_code)
        if (offset := self.offsets.get(key)) is None:
            code = self.world.tenant_codes[case.unit_tenant_id]
            offset = self.offsets[key] = unit_offset(self.seed, code, case.unit_code)
        return self.profile.mix(self.base, self.month, offset)

    def _after_month(self, built: Built, t: datetime) -> datetime:
        """A disposal after the end of the month the running clock falls due in (跨月超期): 1 working
        hour to 10 working days into a later month."""
        due = built.case.due_at
        assert due is not None
        local = due.astimezone(self.world.calendar.tz)
        month_end = (
            local.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)
        ).replace(day=1)
        day = self.world.calendar.day_length.total_seconds() / 60
        return self._after(max(t, month_end), 60, 10 * day)

    def _dispose_loop(self, plan: Plan, built: Built, t: datetime) -> None:
        rng, case = self.rng, built.case
        side = rng.random()
        m = self._unit_mix(case)
        if side < m.redispatch:
            t = self._after(t, 10, 120)
            unit = self._unit_ref(self._other(built, case.unit_code))
            self._do(
                plan,
                built,
                "redispatch",
                t,
                self._post(Role.DISPATCHER),
                unit=unit,
                reason="派遣单位有误，改派",
            )
        elif side < m.redispatch + m.return_:
            t = self._after(t, 30, 240)
            self._do(plan, built, "request_return", t, self._department(built), reason="非本单位职责范围")
            t = self._after(t, 10, 90)
            if rng.random() < m.return_approved:
                before = case.unit_code
                self._do(plan, built, "approve_return", t, self._post(Role.DISPATCHER))
                again = self._into_step(built, "dispatch", t, self.mix.late_dispatch)
                self._dispatch(plan, built, again, avoid=before)
            else:
                self._do(
                    plan,
                    built,
                    "deny_return",
                    t,
                    self._post(Role.DISPATCHER),
                    reason="属于本单位职责，请处置",
                )
        elif side < m.redispatch + m.return_ + m.postpone:
            t = self._after(t, 30, 240)
            asked = rng.choice(("4wh", "1wd", "2wd"))
            self._do(
                plan,
                built,
                "request_postpone",
                t,
                self._department(built),
                reason="需协调多部门处置",
                duration=asked,
            )
            t = self._after(t, 10, 90)
            if rng.random() < m.postpone_approved:
                granted = "4wh" if asked != "4wh" and rng.random() < 0.25 else None
                self._do(plan, built, "approve_postpone", t, self._post(Role.DISPATCHER), granted=granted)
            else:
                self._do(
                    plan, built, "deny_postpone", t, self._post(Role.DISPATCHER), reason="可在时限内完成"
                )
        elif side < m.redispatch + m.return_ + m.postpone + m.park:
            t = self._after(t, 30, 240)
            self._do(plan, built, "request_park", t, self._department(built), reason="需专项资金，暂缓处置")
            t = self._after(t, 10, 90)
            self._do(plan, built, "approve_park", t, self._post(Role.DISPATCHER))
            if rng.random() < m.stay_parked:
                return  # stays parked (挂账)
            t = self._after(t, 480, 4800)
            self._do(plan, built, "resume", t, self._post(Role.DISPATCHER))
        m = self._unit_mix(case)  # the unit that disposes (after a return, another one)
        for attempt in range(2):
            r = rng.random()
            if r < m.abandon:
                return  # never disposed (积压): the clock runs on, overdue
            if r < m.abandon + m.linger:
                t = self._after_month(built, t)
            elif r < m.abandon + m.linger + m.late_dispose:
                t = self._into_clock(built, t, 1.05, 2.5)
            else:
                t = self._into_clock(built, t, 0.15, 0.95)
            self._do(plan, built, "dispose", t, self._department(built), feedback="已按要求处置完毕")
            t = self._after(t, 5, 60)
            self._do(plan, built, "send_check", t, self._post(Role.INTAKE))
            late = rng.random() < m.late_check
            t = self._into_clock(built, t, 1.1, 2.0) if late else self._into_clock(built, t, 0.1, 0.9)
            if attempt == 0 and rng.random() < m.rework:
                self._do(
                    plan, built, "check_fail", t, self._post(Role.SUPERVISOR), reason="处置不到位，需返工"
                )
                continue
            self._do(plan, built, "check_pass", t, self._post(Role.SUPERVISOR))
            break
        self._close(plan, built, t)

    def _close(self, plan: Plan, built: Built, t: datetime) -> None:
        self._do(plan, built, "close", self._after(t, 10, 120), self._post(Role.SHIFT_LEAD))


def crowded(seen: Iterable[_Seen], lon: float, lat: float, near: float) -> bool:
    """Whether any report seen is at most ``near`` metres from the point (``duplicates.metres``).
    Only reports less than ``near`` apart in latitude can be that close: those further apart are
    skipped without computing the distance (a margin keeps the answer exactly the same)."""
    band = math.degrees(near / _SPHERE_M) * (1 + 1e-9) + 1e-12
    for s in seen:  # noqa: SIM110 - a plain loop: no generator for each of thousands of calls
        if abs(s.lat - lat) <= band and metres(s.lon, s.lat, lon, lat) <= near:
            return True
    return False


def _window_span(window: Limit, world: World) -> timedelta:
    """How far apart in calendar time two reports may be and still fall in one duplicate window
    (a working window of N days spans at most about 7/5 N calendar days plus a holiday run)."""
    if not window.working:
        return window.duration(world.calendar)
    days = window.duration(world.calendar) / world.calendar.day_length
    return timedelta(days=int(days * 7 / 5) + 13)

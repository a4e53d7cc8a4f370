"""Typed views of effective documents for the code that runs on them (cases, deadlines, scores).

``Manual.of(doc).rule("matter", "06012")`` is one class's effective disposal rule (处置规则): each
field from the class's own entry, else its parent class (for a local sub-item ``06012-01``), else
the class the legacy code maps to, else ``manual/default``. Views are built once per folded
document and cached on it, so a warm lookup is a dictionary hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from tenants.errors import NotFound
from tenants.standards.layers import Effective, Source
from tenants.standards.paths import Kind
from tenants.standards.worktime import Limit, Unit, WorkCalendar

__all__ = ["ClassRule", "Manual", "calendar_of", "limit_at"]

_FIELDS = (
    "filing",
    "closing",
    "responsible",
    "auto_dispatch",
    "step/verify",
    "step/check",
    "step/file",
    "step/dispatch",
    "duplicate/radius_m",
    "duplicate/window",
)
_NATURAL = {Unit.WORKING_MINUTES: Unit.MINUTES, Unit.WORKING_HOURS: Unit.HOURS, Unit.WORKING_DAYS: Unit.DAYS}


@dataclass(frozen=True)
class ClassRule:
    kind: str
    code: str
    filing: str
    closing: str
    responsible: str
    auto_dispatch: bool
    limits: dict[str, Limit]  # by urgency level
    stages: list[tuple[str, Limit]]
    verify: Limit
    check: Limit
    file: Limit | None  # 立案时限; None in a manual published before filing limits existed
    dispatch: Limit | None  # 派遣时限; likewise
    duplicate_radius_m: float
    duplicate_window: Limit
    sources: dict[str, Source]  # field → which tenant and version set it


class Manual:
    def __init__(self, doc: Effective) -> None:
        if doc.kind is not Kind.MANUAL:
            raise ValueError("a manual view needs the manual document")
        self.doc = doc
        self._rules: dict[tuple[str, str, str | None], ClassRule] = {}
        self._levels: dict[str, str] | None = None

    @classmethod
    def of(cls, doc: Effective) -> Manual:
        view = doc.views.get("manual")
        if not isinstance(view, Manual):
            view = doc.views["manual"] = cls(doc)
        return view

    @property
    def levels(self) -> dict[str, str]:
        """Urgency levels and their labels (computed once per folded document)."""
        if self._levels is None:
            prefix = "manual/urgency/"
            self._levels = {
                p[len(prefix) :]: v for p, (v, _) in self.doc.values.items() if p.startswith(prefix)
            }
        return self._levels

    def rule(self, kind: str, code: str, *, maps_to: str | None = None) -> ClassRule:
        """The effective rule of a class; ``maps_to`` is the crosswalk target of a legacy code."""
        key = (kind, code, maps_to)
        if (found := self._rules.get(key)) is None:
            found = self._rules[key] = self._build(kind, code, maps_to)
        return found

    def _chain(self, kind: str, code: str, maps_to: str | None) -> list[str]:
        chain = [f"manual/{kind}/{code}"]
        if "-" in code:
            chain.append(f"manual/{kind}/{code.split('-', 1)[0]}")
        if maps_to:
            chain.append(f"manual/{kind}/{maps_to}")
        return [*chain, "manual/default"]

    def _build(self, kind: str, code: str, maps_to: str | None) -> ClassRule:
        chain = self._chain(kind, code, maps_to)
        values = self.doc.values
        own = tuple(base + "/" for base in chain[:-1])  # every link but manual/default
        if not any(p.startswith(own) for p in values):
            raise NotFound(f"no disposal rule for {kind} {code}")
        sources: dict[str, Source] = {}

        def pick(leaf: str) -> Any:
            for base in chain:
                if (hit := values.get(f"{base}/{leaf}")) is not None:
                    sources[leaf] = hit[1]
                    return hit[0]
            return None

        fields = {leaf: pick(leaf) for leaf in _FIELDS}
        limits = {level: Limit.parse(v) for level in self.levels if (v := pick(f"limit/{level}"))}
        stages = []
        for n in range(1, 10):
            name, limit = pick(f"stage/{n}/name"), pick(f"stage/{n}/limit")
            if name is None or limit is None:
                break
            stages.append((str(name), Limit.parse(limit)))
        return ClassRule(
            kind=kind,
            code=code,
            filing=fields["filing"],
            closing=fields["closing"],
            responsible=fields["responsible"],
            auto_dispatch=fields["auto_dispatch"] is True,
            limits=limits,
            stages=stages,
            verify=Limit.parse(fields["step/verify"]),
            check=Limit.parse(fields["step/check"]),
            file=_optional_limit(fields["step/file"]),
            dispatch=_optional_limit(fields["step/dispatch"]),
            duplicate_radius_m=float(fields["duplicate/radius_m"]),
            duplicate_window=Limit.parse(fields["duplicate/window"]),
            sources=sources,
        )


def _optional_limit(value: Any) -> Limit | None:
    return None if value is None else Limit.parse(value)


def calendar_of(doc: Effective) -> WorkCalendar:
    """The working calendar of an effective ``calendar`` document."""
    if doc.kind is not Kind.CALENDAR:
        raise ValueError("a calendar view needs the calendar document")
    cached = doc.views.get("calendar")
    if isinstance(cached, WorkCalendar):
        return cached
    tz = ZoneInfo(doc.value("calendar/timezone", "Asia/Shanghai"))
    hours = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in doc.value("calendar/hours"))
    holidays, workdays, closures = set(), set(), []
    for path, (value, _) in doc.values.items():
        if path.startswith("calendar/holiday/"):
            holidays.add(date.fromisoformat(path.rsplit("/", 1)[1]))
        elif path.startswith("calendar/workday/"):
            workdays.add(date.fromisoformat(path.rsplit("/", 1)[1]))
        elif path.startswith("calendar/closure/"):
            closures.append((datetime.fromisoformat(value["from"]), datetime.fromisoformat(value["to"])))
    calendar = WorkCalendar(
        tz=tz,
        hours=hours,
        holidays=frozenset(holidays - workdays),
        workdays=frozenset(workdays),
        closures=tuple(sorted(closures)),
    )
    doc.views["calendar"] = calendar
    return calendar


def limit_at(rule: ClassRule, level: str, calendar_doc: Effective) -> Limit:
    """The class's limit at an urgency level; levels under the 24-hour regime
    (``calendar/natural_time``) count working units as clock time (2wh → 2h)."""
    try:
        limit = rule.limits[level]
    except KeyError:
        raise NotFound(f"{rule.kind} {rule.code} has no limit for urgency {level!r}") from None
    if level in (calendar_doc.value("calendar/natural_time") or ()) and limit.unit in _NATURAL:
        return Limit(limit.amount, _NATURAL[limit.unit])
    return limit

"""Working time (工作时间): deadlines (处置时限), elapsed working time and the timer light (计时灯).

A time limit (时限) is written ``<amount><unit>``: ``30wmin``, ``2wh``, ``1.5wd`` (working time,
counted on a :class:`WorkCalendar`) or ``30min``, ``24h``, ``1d`` (natural clock time, the 24-hour
regime of the urgent levels).

Semantics:

* Every datetime must be timezone-aware (``ValueError`` on naive); results are in ``calendar.tz``.
  Arithmetic is done on UTC instants with ``timedelta`` (integer microseconds), never floats.
* **Working time** is the union of the ``hours`` periods of the working days, minus the calendar's
  ``closures`` (临时停工) and minus the ``paused`` intervals of the case (延期/挂账: the clock stops).
  A day is a working day when it is in ``workdays`` (调休上班, even on a weekend), else not when it is
  in ``holidays`` (法定节假日, even on a weekday), else when it is Monday to Friday.
* Working units: ``1wmin`` is one working minute, ``1wh`` sixty, and ``1wd`` is ``calendar.day_length``
  of working time (7.5 h by default), so ``1wd`` from Monday 10:00 of an ordinary week is Tuesday
  10:00. Amounts are converted to whole microseconds (half-even rounding).
* :func:`deadline` walks forward from ``start`` consuming working time and returns the earliest
  instant at which the limit is used up: a limit ending exactly at the end of a period returns that
  instant (12:00, not 13:30). A zero limit returns ``start`` unchanged (in ``calendar.tz``).
* Natural units: wall-clock elapsed time (``1d`` = 24 h), but ``paused`` intervals still do not count;
  holidays, weekends, working hours and closures do not apply.
* :func:`working_elapsed` is the inverse of :func:`deadline` for working units:
  ``working_elapsed(t, deadline(t, L)) == L.duration(calendar)``; it is zero when ``end <= start``.
  :func:`natural_elapsed` is its 24-hour counterpart.
* :func:`timer_light`: green while less than 80 % of the limit is used, yellow from 80 % to 100 %
  inclusive, red beyond, compared exactly (a zero limit is yellow until any time is used).

Periods are local wall-clock times; in a zone with daylight saving a period crossing the change is
as long as the clock really runs (Asia/Shanghai has none).

Speed (the demo history computes millions of deadlines): a calendar's working periods of each day,
as UTC instants, are computed once per calendar and day (:func:`day_segments`; the last 32 calendars
are kept, by value, so two equal calendars share them, each with the days asked of it: a few
hundred bytes a day); a limit's parsed form and its length are cached too. All are pure functions
of immutable values: results are unchanged.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_HOURS",
    "SHANGHAI",
    "Light",
    "Limit",
    "Unit",
    "WorkCalendar",
    "day_segments",
    "deadline",
    "natural_elapsed",
    "timer_light",
    "working_elapsed",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))

Interval = tuple[datetime, datetime]
_ZERO = timedelta(0)
_DAY = timedelta(days=1)


class Unit(enum.StrEnum):
    """Units of a time limit: working time (counted on the calendar) or natural clock time."""

    WORKING_MINUTES = "wmin"
    WORKING_HOURS = "wh"
    WORKING_DAYS = "wd"
    MINUTES = "min"
    HOURS = "h"
    DAYS = "d"


_WORKING = frozenset({Unit.WORKING_MINUTES, Unit.WORKING_HOURS, Unit.WORKING_DAYS})
_MICROS_PER_UNIT = {
    Unit.WORKING_MINUTES: 60_000_000,
    Unit.WORKING_HOURS: 3_600_000_000,
    Unit.MINUTES: 60_000_000,
    Unit.HOURS: 3_600_000_000,
    Unit.DAYS: 86_400_000_000,
}
_LIMIT = re.compile(r"(\d+(?:\.\d+)?)(wmin|wh|wd|min|h|d)", re.ASCII)


@dataclass(frozen=True, slots=True)
class Limit:
    """A time limit such as ``2wh``, ``1.5wd``, ``30wmin`` or ``24h`` (non-negative)."""

    amount: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        amount = Decimal(self.amount)
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"a time limit must be a finite, non-negative amount, not {self.amount}")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "unit", Unit(self.unit))

    @classmethod
    def parse(cls, text: str) -> Limit:
        if cls is Limit:
            return _parsed(text)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> Limit:
        match = _LIMIT.fullmatch(text)
        if match is None:
            raise ValueError(
                f"{text!r} is not a time limit: write an amount and a unit, such as "
                '"30wmin", "2wh", "1.5wd" (working time) or "30min", "24h", "1d" (natural time)'
            )
        return cls(Decimal(match.group(1)), Unit(match.group(2)))

    def __str__(self) -> str:
        return f"{self.amount.normalize():f}{self.unit.value}"

    @property
    def working(self) -> bool:
        """Counted in working time on the calendar (wmin, wh, wd), not on the clock."""
        return self.unit in _WORKING

    def __add__(self, other: Limit) -> Limit:
        if other.unit is not self.unit:
            raise ValueError(f"cannot add limits in different units: {self} + {other}")
        return Limit(self.amount + other.amount, self.unit)

    def duration(self, calendar: WorkCalendar) -> timedelta:
        """The limit as working (or clock) time; ``wd`` counts ``calendar.day_length`` per day."""
        return _duration(self, calendar.hours if self.unit is Unit.WORKING_DAYS else None)


@lru_cache(maxsize=4096)
def _parsed(text: str) -> Limit:
    """``Limit.parse`` of a text seen before: the same (immutable) limit."""
    return Limit._parse(text)


@lru_cache(maxsize=4096)
def _duration(limit: Limit, hours: tuple[tuple[time, time], ...] | None) -> timedelta:
    """A limit's length; ``hours`` (the working periods, for ``wd``) give the day's length."""
    if hours is not None:
        per_unit = _day_length(hours) // timedelta(microseconds=1)
    else:
        per_unit = _MICROS_PER_UNIT[limit.unit]
    micros = (limit.amount * per_unit).to_integral_value(rounding=ROUND_HALF_EVEN)
    return timedelta(microseconds=int(micros))


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """When the clock runs for working-time limits (工作日历)."""

    tz: ZoneInfo = SHANGHAI
    hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS
    holidays: frozenset[date] = frozenset()  # days off, even on a weekday (法定节假日)
    workdays: frozenset[date] = frozenset()  # make-up working days, even on a weekend (调休上班)
    closures: tuple[tuple[datetime, datetime], ...] = ()  # local closures not counted (临时停工)

    def __post_init__(self) -> None:
        hours = tuple((begin, end) for begin, end in self.hours)
        if not hours:
            raise ValueError("a work calendar needs at least one working period")
        previous: time | None = None
        for begin, end in hours:
            if begin.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working periods are local wall-clock times without tzinfo")
            if not begin < end:
                raise ValueError(f"working period {begin:%H:%M}–{end:%H:%M} must end after it begins")
            if previous is not None and begin < previous:
                raise ValueError("working periods must be sorted and must not overlap")
            previous = end
        holidays, workdays = frozenset(self.holidays), frozenset(self.workdays)
        if both := holidays & workdays:
            raise ValueError(f"days both holiday and make-up working day: {sorted(both)}")
        closures = tuple(self.closures)
        _merged(closures, "closure")
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "workdays", workdays)
        object.__setattr__(self, "closures", closures)

    @classmethod
    def default(
        cls,
        *,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        closures: Iterable[tuple[datetime, datetime]] = (),
    ) -> WorkCalendar:
        """08:30–12:00 and 13:30–17:30, Monday to Friday, Asia/Shanghai."""
        return cls(SHANGHAI, DEFAULT_HOURS, frozenset(holidays), frozenset(workdays), tuple(closures))

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    @property
    def day_length(self) -> timedelta:
        """Working time of one ordinary working day (the sum of the periods)."""
        return _day_length(self.hours)


@lru_cache(maxsize=64)
def _day_length(hours: tuple[tuple[time, time], ...]) -> timedelta:
    anchor = date.min
    return sum((datetime.combine(anchor, e) - datetime.combine(anchor, b) for b, e in hours), _ZERO)


class _Days:
    """The working periods of each day of one calendar, as UTC instants, computed on first use."""

    __slots__ = ("calendar", "days")

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.days: dict[date, tuple[Interval, ...]] = {}

    def of(self, day: date) -> tuple[Interval, ...]:
        found = self.days.get(day)
        if found is None:
            c = self.calendar
            found = ()
            if c.is_working_day(day):
                found = tuple(
                    (
                        datetime.combine(day, opens, tzinfo=c.tz).astimezone(UTC),
                        datetime.combine(day, closes, tzinfo=c.tz).astimezone(UTC),
                    )
                    for opens, closes in c.hours
                )
            self.days[day] = found
        return found


@lru_cache(maxsize=32)
def _days(calendar: WorkCalendar) -> _Days:
    return _Days(calendar)


def day_segments(calendar: WorkCalendar, day: date) -> tuple[Interval, ...]:
    """The working periods of ``day`` as UTC instants (none on a day off); closures not removed."""
    return _days(calendar).of(day)


class Light(enum.StrEnum):
    """The timer light of a case (计时灯)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def label(self) -> str:
        return _LIGHT_LABELS[self]


_LIGHT_LABELS = {Light.GREEN: "绿灯", Light.YELLOW: "黄灯", Light.RED: "红灯"}


def deadline(
    start: datetime, limit: Limit, calendar: WorkCalendar, *, paused: Sequence[Interval] = ()
) -> datetime:
    """The instant at which ``limit``, counted from ``start``, is used up (in ``calendar.tz``)."""
    origin = _utc(start, "start")
    need = limit.duration(calendar)
    if need == _ZERO:
        return origin.astimezone(calendar.tz)
    if not limit.working:
        return _natural_deadline(origin, need, _merged(paused, "paused interval")).astimezone(calendar.tz)
    blocked = _merged([*calendar.closures, *paused], "paused interval") if calendar.closures or paused else []
    if not blocked:  # the common case: walk the day schedule directly
        days, day = _days(calendar), origin.astimezone(calendar.tz).date()
        while True:
            for opens, end in days.of(day):
                begin = opens if opens > origin else origin
                if begin < end:
                    if need <= end - begin:
                        return (begin + need).astimezone(calendar.tz)
                    need -= end - begin
            day += _DAY
    segments = _free(origin, calendar, blocked)
    while True:
        begin, end = next(segments)
        if need <= end - begin:
            return (begin + need).astimezone(calendar.tz)
        need -= end - begin


def working_elapsed(
    start: datetime, end: datetime, calendar: WorkCalendar, *, paused: Sequence[Interval] = ()
) -> timedelta:
    """Working time between ``start`` and ``end``, closures and pauses excluded (0 if end <= start)."""
    origin, stop = _utc(start, "start"), _utc(end, "end")
    blocked = _merged([*calendar.closures, *paused], "paused interval")
    if stop <= origin:
        return _ZERO
    total = _ZERO
    for begin, finish in _free(origin, calendar, blocked, last_day=stop.astimezone(calendar.tz).date()):
        if begin >= stop:
            break
        total += min(finish, stop) - begin
    return total


def natural_elapsed(start: datetime, end: datetime, *, paused: Sequence[Interval] = ()) -> timedelta:
    """Clock time between ``start`` and ``end`` with the pauses excluded (0 if end <= start)."""
    origin, stop = _utc(start, "start"), _utc(end, "end")
    pauses = _merged(paused, "paused interval")
    if stop <= origin:
        return _ZERO
    total = stop - origin
    for begin, finish in pauses:
        total -= max(_ZERO, min(finish, stop) - max(begin, origin))
    return total


def timer_light(
    start: datetime, now: datetime, limit: Limit, calendar: WorkCalendar, *, paused: Sequence[Interval] = ()
) -> Light:
    """Green below 80 % of the limit used, yellow from 80 % to 100 %, red beyond (exact comparison)."""
    allowed = limit.duration(calendar)
    if limit.working:
        used = working_elapsed(start, now, calendar, paused=paused)
    else:
        used = natural_elapsed(start, now, paused=paused)
    if used > allowed:
        return Light.RED
    return Light.YELLOW if used * 5 >= allowed * 4 else Light.GREEN


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _merged(intervals: Iterable[Interval], what: str) -> list[Interval]:
    """Validated, sorted, merged UTC intervals; empty ones dropped."""
    spans: list[Interval] = []
    for begin, end in intervals:
        b, e = _utc(begin, f"{what} start"), _utc(end, f"{what} end")
        if e < b:
            raise ValueError(f"{what} ends before it begins: {begin.isoformat()} – {end.isoformat()}")
        if b < e:
            spans.append((b, e))
    spans.sort()
    merged: list[Interval] = []
    for b, e in spans:
        if merged and b <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((b, e))
    return merged


def _free(
    origin: datetime, calendar: WorkCalendar, blocked: list[Interval], *, last_day: date | None = None
) -> Iterator[Interval]:
    """Working segments (UTC, in order) at or after ``origin``: whole days at a time, blocks removed."""
    day = origin.astimezone(calendar.tz).date()
    days = _days(calendar)
    i = 0
    while last_day is None or day <= last_day:
        for opens, end in days.of(day):
            begin = max(origin, opens)
            if not blocked:
                if begin < end:
                    yield begin, end
                continue
            while i < len(blocked) and blocked[i][1] <= begin:
                i += 1
            j = i
            while begin < end and j < len(blocked) and blocked[j][0] < end:
                if blocked[j][0] > begin:
                    yield begin, blocked[j][0]
                begin = max(begin, blocked[j][1])
                j += 1
            if begin < end:
                yield begin, end
        day += _DAY


def _natural_deadline(origin: datetime, need: timedelta, pauses: list[Interval]) -> datetime:
    current = origin
    for begin, end in pauses:
        if end <= current:
            continue
        if begin > current:
            if need <= begin - current:
                return current + need
            need -= begin - current
        current = end
    return current + need

"""The working-time engine: hand-computed cases and hypothesis properties.

Default hours: 08:30–12:00 and 13:30–17:30, so one working day (1wd) is 3.5 h + 4 h = 7.5 h.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.standards.national import national_days
from tenants.standards.worktime import (
    SHANGHAI,
    Light,
    Limit,
    Unit,
    WorkCalendar,
    day_segments,
    deadline,
    natural_elapsed,
    timer_light,
    working_elapsed,
)

Interval = tuple[datetime, datetime]


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, 0, us, tzinfo=SHANGHAI)


HOLIDAYS, WORKDAYS = national_days([2025, 2026, 2027])  # 2027 is not in chinesecalendar 1.11.0
NATIONAL = WorkCalendar.default(holidays=HOLIDAYS, workdays=WORKDAYS)
# A typhoon closure (临时停工): Tue 2026-03-10 14:00 to Thu 2026-03-12 10:00.
CLOSURE = (at(2026, 3, 10, 14), at(2026, 3, 12, 10))
CALENDAR = WorkCalendar.default(holidays=HOLIDAYS, workdays=WORKDAYS, closures=[CLOSURE])


def L(text: str) -> Limit:
    return Limit.parse(text)


# --- Limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0wh", "30wmin", "2wh", "1.5wd", "30min", "24h", "1d", "10wd", "0.25wh"])
def test_limit_round_trips(text: str) -> None:
    assert str(L(text)) == text
    assert L(str(L(text))) == L(text)


def test_limit_parts() -> None:
    assert L("1.5wd") == Limit(Decimal("1.5"), Unit.WORKING_DAYS)
    assert str(Limit(Decimal("1.50"), Unit.WORKING_DAYS)) == "1.5wd"
    assert str(Limit(Decimal("1E+1"), Unit.HOURS)) == "10h"
    assert L("2wh").working
    assert not L("24h").working
    assert L("1wh") + L("0.5wh") == L("1.5wh")
    assert L("1wd").duration(NATIONAL) == timedelta(hours=7, minutes=30)
    assert L("1d").duration(NATIONAL) == timedelta(hours=24)


@pytest.mark.parametrize(
    "text", ["", "2", "wh", "2 wh", " 2wh", "-1wh", "2WH", "1.wh", ".5wd", "2hours", "２wh", "1e3wh", "2w"]
)
def test_limit_parse_errors(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time limit"):
        Limit.parse(text)


def test_limit_rejects_negative_and_mixed_units() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Limit(Decimal(-1), Unit.HOURS)
    with pytest.raises(ValueError, match="different units"):
        L("1wh") + L("1h")


# --- Calendar -----------------------------------------------------------------------------------


def test_calendar_basics() -> None:
    calendar = WorkCalendar.default()
    assert calendar.day_length == timedelta(hours=7, minutes=30)
    assert calendar.tz == SHANGHAI
    assert NATIONAL.is_working_day(date(2026, 2, 14))  # Saturday, make-up working day (调休上班)
    assert not NATIONAL.is_working_day(date(2026, 2, 16))  # Monday, 春节
    assert not NATIONAL.is_working_day(date(2026, 3, 7))  # ordinary Saturday
    assert NATIONAL.is_working_day(date(2026, 3, 6))  # ordinary Friday


@pytest.mark.parametrize(
    "hours",
    [
        (),
        ((time(12), time(8, 30)),),
        ((time(8, 30), time(12)), (time(11), time(17))),
        ((time(13, 30), time(17, 30)), (time(8, 30), time(12))),
        ((time(8, 30, tzinfo=UTC), time(12)),),
    ],
)
def test_calendar_rejects_bad_hours(hours: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(ValueError, match="period"):
        WorkCalendar(SHANGHAI, hours)


def test_calendar_rejects_conflicts_and_naive_closures() -> None:
    with pytest.raises(ValueError, match="both holiday"):
        WorkCalendar.default(holidays=[date(2026, 3, 2)], workdays=[date(2026, 3, 2)])
    with pytest.raises(ValueError, match="timezone-aware"):
        WorkCalendar.default(closures=[(datetime(2026, 3, 2, 9), at(2026, 3, 2, 10))])  # noqa: DTZ001
    with pytest.raises(ValueError, match="ends before"):
        WorkCalendar.default(closures=[(at(2026, 3, 2, 10), at(2026, 3, 2, 9))])


# --- Hand-computed deadlines --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        # Spring Festival 2026: holidays Sun 02-15 .. Mon 02-23, make-up Saturdays 02-14 and 02-28.
        # Fri 02-13 16:30–17:30 = 1 h; Sat 02-14 (make-up) 08:30 + 1 h = 09:30.
        (at(2026, 2, 13, 16, 30), "2wh", at(2026, 2, 14, 9, 30)),
        # Sat 02-14 10:00–12:00 = 2 h, 13:30–17:30 = 4 h: 6 h of 7.5 h, 1.5 h left;
        # 02-15 .. 02-23 off; Tue 02-24 08:30 + 1.5 h = 10:00.
        (at(2026, 2, 14, 10), "1wd", at(2026, 2, 24, 10)),
        # Fri 02-27 13:30 + 1wd: Fri 4 h, 3.5 h left; Sat 02-28 is a make-up day: 08:30 + 3.5 h = 12:00.
        (at(2026, 2, 27, 13, 30), "1wd", at(2026, 2, 28, 12)),
        # National Day 2026: holidays 10-01 .. 10-07, make-up Sun 09-20 and Sat 10-10.
        # Sat 09-19 is off; Sun 09-20 (make-up) 08:30 + 7.5 h = 17:30 (end of the last period).
        (at(2026, 9, 19, 9), "1wd", at(2026, 9, 20, 17, 30)),
        # Wed 09-30 10:00–17:30 = 6 h, 1.5 h left; 10-01 .. 10-07 off; Thu 10-08 08:30 + 1.5 h = 10:00.
        (at(2026, 9, 30, 10), "1wd", at(2026, 10, 8, 10)),
        # Fri 10-09 08:30: Fri = 1wd, Sat 10-10 (make-up) = 2wd, Sun off, Mon 10-12 = 3wd at 17:30.
        (at(2026, 10, 9, 8, 30), "3wd", at(2026, 10, 12, 17, 30)),
        # Across lunch: Mon 2026-03-02 11:30–12:00 = 0:30, then 13:30 + 0:30 = 14:00.
        (at(2026, 3, 2, 11, 30), "1wh", at(2026, 3, 2, 14)),
        # Ends exactly at a period end: 11:00 + 1 h = 12:00 (not 13:30); 16:30 + 1 h = 17:30 (not 08:30).
        (at(2026, 3, 2, 11), "1wh", at(2026, 3, 2, 12)),
        (at(2026, 3, 2, 16, 30), "60wmin", at(2026, 3, 2, 17, 30)),
        # Before hours: 07:00 counts from 08:30; 08:30 + 30 min = 09:00.
        (at(2026, 3, 2, 7), "30wmin", at(2026, 3, 2, 9)),
        # Friday night: next working time is Mon 03-09 08:30; + 1 h = 09:30.
        (at(2026, 3, 6, 20), "1wh", at(2026, 3, 9, 9, 30)),
        # Ordinary week: 1wd from Mon 10:00 is Tue 10:00; 1.5wd = 11.25 h: Mon 10:00–17:30 = 6 h,
        # Tue 7.5 h (13.5 h > 11.25 h) so Tue: 5.25 h from 08:30 = 3.5 h to 12:00 + 1.75 h from 13:30 = 15:15.
        (at(2026, 3, 2, 10), "1wd", at(2026, 3, 3, 10)),
        (at(2026, 3, 2, 10), "1.5wd", at(2026, 3, 3, 15, 15)),
        # Zero limit: start unchanged, even at night on a weekend.
        (at(2026, 3, 7, 3), "0wh", at(2026, 3, 7, 3)),
        # Natural time ignores holidays: Sat 10-03 10:00 + 24 h = Sun 10-04 10:00 (both 国庆节).
        (at(2026, 10, 3, 10), "24h", at(2026, 10, 4, 10)),
        (at(2026, 10, 3, 10), "1d", at(2026, 10, 4, 10)),
        (at(2026, 10, 3, 23, 50), "30min", at(2026, 10, 4, 0, 20)),
    ],
)
def test_hand_computed(start: datetime, limit: str, expected: datetime) -> None:
    assert deadline(start, L(limit), NATIONAL) == expected
    if L(limit).working:
        assert working_elapsed(start, expected, NATIONAL) == L(limit).duration(NATIONAL)


def test_result_is_in_calendar_zone() -> None:
    # 02:00 UTC is 10:00 in Shanghai; + 1wd is Tue 10:00 Shanghai.
    result = deadline(datetime(2026, 3, 2, 2, tzinfo=UTC), L("1wd"), NATIONAL)
    assert result == at(2026, 3, 3, 10)
    assert result.tzinfo == SHANGHAI
    assert deadline(datetime(2026, 3, 2, 2, tzinfo=UTC), L("0wh"), NATIONAL).tzinfo == SHANGHAI


def test_local_closure() -> None:
    # Closure Tue 2026-03-10 14:00 .. Thu 03-12 10:00. From Tue 13:00 (lunch) + 1wh:
    # 13:30–14:00 = 0:30, then closed; Thu 10:00 + 0:30 = 10:30.
    assert deadline(at(2026, 3, 10, 13), L("1wh"), CALENDAR) == at(2026, 3, 12, 10, 30)
    # Without the closure: 13:30 + 1 h = 14:30 the same day.
    assert deadline(at(2026, 3, 10, 13), L("1wh"), NATIONAL) == at(2026, 3, 10, 14, 30)
    # Wed 03-11 entirely closed: working time Tue 12:00 .. Thu 12:00 is 13:30–14:00 + 10:00–12:00 = 2.5 h.
    assert working_elapsed(at(2026, 3, 10, 12), at(2026, 3, 12, 12), CALENDAR) == timedelta(hours=2.5)


def test_paused_interval_shifts_by_its_working_overlap() -> None:
    start = at(2026, 3, 2, 9)  # Monday; 1wd → Tue 09:00 without pauses
    assert deadline(start, L("1wd"), NATIONAL) == at(2026, 3, 3, 9)
    # Postponed (延期) Mon 14:00 .. Tue 14:00: working overlap Mon 14:00–17:30 (3.5 h) + Tue 08:30–12:00
    # (3.5 h) + Tue 13:30–14:00 (0.5 h) = 7.5 h = 1wd, so the deadline moves by one working day: Wed 09:00.
    pause = (at(2026, 3, 2, 14), at(2026, 3, 3, 14))
    assert deadline(start, L("1wd"), NATIONAL, paused=[pause]) == at(2026, 3, 4, 9)
    # A pause inside the lunch break overlaps no working time: no shift.
    lunch = (at(2026, 3, 2, 12), at(2026, 3, 2, 13, 30))
    assert deadline(start, L("1wd"), NATIONAL, paused=[lunch]) == at(2026, 3, 3, 9)
    # Natural time: the clock stops during the pause too: 09:00 + 24 h + 24 h paused = Wed 09:00.
    assert deadline(start, L("24h"), NATIONAL, paused=[pause]) == at(2026, 3, 4, 9)
    assert natural_elapsed(start, at(2026, 3, 4, 9), paused=[pause]) == timedelta(hours=24)


def test_elapsed_is_zero_backwards() -> None:
    assert working_elapsed(at(2026, 3, 3, 10), at(2026, 3, 2, 10), NATIONAL) == timedelta(0)
    assert natural_elapsed(at(2026, 3, 3, 10), at(2026, 3, 2, 10)) == timedelta(0)


# --- Timer light --------------------------------------------------------------------------------


def test_timer_light_thresholds() -> None:
    # 10wh from Mon 2026-03-02 08:30: Mon gives 7.5 h, Tue 08:30 + 2.5 h = 11:00 (100 %).
    # 80 % = 8 h → Tue 09:00; 79 % = 7.9 h = 474 min → Tue 08:30 + 24 min = 08:54.
    start, limit = at(2026, 3, 2, 8, 30), L("10wh")
    assert deadline(start, limit, NATIONAL) == at(2026, 3, 3, 11)
    cases = [
        (at(2026, 3, 3, 8, 54), Light.GREEN),  # 79 %
        (at(2026, 3, 3, 9) - timedelta(microseconds=1), Light.GREEN),  # just under 80 %
        (at(2026, 3, 3, 9), Light.YELLOW),  # 80 %
        (at(2026, 3, 3, 11), Light.YELLOW),  # 100 %
        (at(2026, 3, 3, 11, us=1), Light.RED),  # 100 % + 1 µs
        (at(2026, 3, 3, 12, 30), Light.RED),  # over the limit, and it stays red through the lunch break
        (at(2026, 3, 2, 8), Light.GREEN),  # before the start
    ]
    for now, light in cases:
        assert timer_light(start, now, limit, NATIONAL) == light, now


def test_timer_light_natural_and_labels() -> None:
    start = at(2026, 10, 2, 0)  # a holiday: natural time still runs
    # 24 h: 80 % = 19.2 h = 19:12.
    assert timer_light(start, at(2026, 10, 2, 19, 11), L("24h"), NATIONAL) is Light.GREEN
    assert timer_light(start, at(2026, 10, 2, 19, 12), L("24h"), NATIONAL) is Light.YELLOW
    assert timer_light(start, at(2026, 10, 3, 0), L("24h"), NATIONAL) is Light.YELLOW
    assert timer_light(start, at(2026, 10, 3, 0, us=1), L("24h"), NATIONAL) is Light.RED
    assert [light.label for light in Light] == ["绿灯", "黄灯", "红灯"]
    assert str(Light.RED) == "red"


# --- Naive datetimes ----------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 2, 9)  # noqa: DTZ001
    aware = at(2026, 3, 2, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(naive, L("1wh"), NATIONAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(naive, L("1h"), NATIONAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_elapsed(aware, naive, NATIONAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(aware, L("1wh"), NATIONAL, paused=[(naive, aware)])
    with pytest.raises(ValueError, match="timezone-aware"):
        timer_light(aware, naive, L("1wh"), NATIONAL)


# --- Properties ---------------------------------------------------------------------------------

PROPERTY = settings(deadline=None, max_examples=300)
BASE = at(2025, 12, 1)
SPAN_MINUTES = int((at(2026, 12, 15) - BASE) / timedelta(minutes=1))
BOUNDARIES = [time(0), time(8, 30), time(12), time(13, 30), time(17, 30), time(23, 59)]

instants = st.one_of(
    st.integers(0, SPAN_MINUTES).map(lambda m: BASE + timedelta(minutes=m)),
    st.builds(
        lambda d, t: datetime.combine(BASE.date() + timedelta(days=d), t, tzinfo=SHANGHAI),
        st.integers(0, SPAN_MINUTES // 1440),
        st.sampled_from(BOUNDARIES),
    ),
)
pauses = st.lists(
    st.builds(lambda t, m: (t, t + timedelta(minutes=m)), instants, st.integers(0, 5 * 1440)), max_size=3
)
AMOUNTS = {
    Unit.WORKING_MINUTES: st.integers(0, 60 * 8 * 20).map(Decimal),
    Unit.WORKING_HOURS: st.integers(0, 4 * 150).map(lambda n: Decimal(n) / 4),  # quarter hours up to 150
    Unit.WORKING_DAYS: st.integers(0, 2 * 60).map(lambda n: Decimal(n) / 2),  # half days up to 60
    Unit.MINUTES: st.integers(0, 60 * 24 * 10).map(Decimal),
    Unit.HOURS: st.integers(0, 4 * 240).map(lambda n: Decimal(n) / 4),
    Unit.DAYS: st.integers(0, 2 * 30).map(lambda n: Decimal(n) / 2),
}
WORKING_UNITS = [Unit.WORKING_MINUTES, Unit.WORKING_HOURS, Unit.WORKING_DAYS]
NATURAL_UNITS = [Unit.MINUTES, Unit.HOURS, Unit.DAYS]


@st.composite
def limit_pairs(draw: st.DrawFn, units: list[Unit]) -> tuple[Limit, Limit]:
    unit = draw(st.sampled_from(units))
    return Limit(draw(AMOUNTS[unit]), unit), Limit(draw(AMOUNTS[unit]), unit)


def limits(units: list[Unit]) -> st.SearchStrategy[Limit]:
    return limit_pairs(units).map(lambda pair: pair[0])


@PROPERTY
@given(instants, limit_pairs(WORKING_UNITS + NATURAL_UNITS), pauses)
def test_additivity(start: datetime, pair: tuple[Limit, Limit], paused: list[Interval]) -> None:
    a, b = pair
    first = deadline(start, a, CALENDAR, paused=paused)
    assert deadline(first, b, CALENDAR, paused=paused) == deadline(start, a + b, CALENDAR, paused=paused)


@PROPERTY
@given(instants, limit_pairs(WORKING_UNITS + NATURAL_UNITS), pauses)
def test_monotone_in_limit(start: datetime, pair: tuple[Limit, Limit], paused: list[Interval]) -> None:
    a, b = sorted(pair, key=lambda limit: limit.amount)
    assert start <= deadline(start, a, CALENDAR, paused=paused) <= deadline(start, b, CALENDAR, paused=paused)


@PROPERTY
@given(instants, instants, limits(WORKING_UNITS + NATURAL_UNITS), pauses)
def test_monotone_in_start(t1: datetime, t2: datetime, limit: Limit, paused: list[Interval]) -> None:
    t1, t2 = sorted([t1, t2])
    assert deadline(t1, limit, CALENDAR, paused=paused) <= deadline(t2, limit, CALENDAR, paused=paused)


@PROPERTY
@given(instants, limits(WORKING_UNITS), pauses)
def test_round_trip_and_earliest(start: datetime, limit: Limit, paused: list[Interval]) -> None:
    end = deadline(start, limit, CALENDAR, paused=paused)
    needed = limit.duration(CALENDAR)
    assert working_elapsed(start, end, CALENDAR, paused=paused) == needed
    if needed:  # the earliest such instant: a microsecond before, the limit is not yet used up
        before = end - timedelta(microseconds=1)
        assert working_elapsed(start, before, CALENDAR, paused=paused) < needed
        assert timer_light(start, end, limit, CALENDAR, paused=paused) is Light.YELLOW
        assert timer_light(start, end + timedelta(minutes=1), limit, CALENDAR, paused=paused) in {
            Light.YELLOW,  # the minute after may fall outside working time
            Light.RED,
        }


@PROPERTY
@given(instants, limits(NATURAL_UNITS), pauses)
def test_natural_units_ignore_the_calendar(start: datetime, limit: Limit, paused: list[Interval]) -> None:
    plain = WorkCalendar.default()
    end = deadline(start, limit, CALENDAR, paused=paused)
    assert end == deadline(start, limit, plain, paused=paused)
    assert natural_elapsed(start, end, paused=paused) == limit.duration(CALENDAR)
    assert deadline(start, limit, CALENDAR) == start + limit.duration(CALENDAR)


def _working_minute(minute: datetime, paused: list[Interval]) -> bool:
    local = minute.astimezone(SHANGHAI)
    if not CALENDAR.is_working_day(local.date()):
        return False
    if not any(opens <= local.time() < closes for opens, closes in CALENDAR.hours):
        return False
    return not any(b <= minute < e for b, e in [*CALENDAR.closures, *paused])


@settings(deadline=None, max_examples=100)
@given(instants, st.integers(0, 3 * 1440), pauses)
def test_elapsed_matches_minute_count(start: datetime, minutes: int, paused: list[Interval]) -> None:
    # Everything is at minute resolution, so counting working minutes one by one is an oracle.
    end = start + timedelta(minutes=minutes)
    count = sum(_working_minute(start + timedelta(minutes=m), paused) for m in range(minutes))
    assert working_elapsed(start, end, CALENDAR, paused=paused) == timedelta(minutes=count)


# --- Caches (the demo history computes millions of deadlines) -------------------------------------


def test_day_segments_are_the_working_periods_in_utc() -> None:
    # Friday 2026-03-06: 08:30–12:00 and 13:30–17:30 Shanghai are 00:30–04:00 and 05:30–09:30 UTC
    friday = date(2026, 3, 6)
    utc = [(a.astimezone(UTC).time(), b.astimezone(UTC).time()) for a, b in day_segments(NATIONAL, friday)]
    assert utc == [(time(0, 30), time(4)), (time(5, 30), time(9, 30))]
    assert day_segments(NATIONAL, date(2026, 3, 7)) == ()  # Saturday
    assert day_segments(NATIONAL, date(2026, 2, 16)) == ()  # 春节
    assert len(day_segments(NATIONAL, date(2026, 2, 14))) == 2  # Saturday, 调休上班
    # closures are not removed here (deadline does that)
    assert day_segments(CALENDAR, date(2026, 3, 11)) == day_segments(NATIONAL, date(2026, 3, 11))


def test_the_day_cache_is_keyed_by_the_calendars_value() -> None:
    """An equal calendar shares the cached days; a calendar that differs by one holiday does not."""
    plain, off = WorkCalendar.default(), WorkCalendar.default(holidays=[date(2026, 3, 9)])  # a Monday
    friday = at(2026, 3, 6, 17)
    assert deadline(friday, L("1wh"), plain) == at(2026, 3, 9, 9)
    assert deadline(friday, L("1wh"), off) == at(2026, 3, 10, 9)
    assert deadline(friday, L("1wh"), WorkCalendar.default()) == at(2026, 3, 9, 9)
    assert day_segments(WorkCalendar.default(), date(2026, 3, 9)) == day_segments(plain, date(2026, 3, 9))
    assert day_segments(off, date(2026, 3, 9)) == ()


def test_parsed_limits_are_shared_and_errors_are_not_cached() -> None:
    assert L("2.5wh") is L("2.5wh")
    assert L("2.5wh").duration(NATIONAL) == timedelta(hours=2, minutes=30)
    assert L("2.50wh").duration(NATIONAL) == timedelta(hours=2, minutes=30)  # equal amount, same length
    for _ in range(2):
        with pytest.raises(ValueError, match="is not a time limit"):
            L("2 wh")
    short = WorkCalendar(SHANGHAI, ((time(9), time(12)),))  # 1wd = 3 h on this calendar
    assert L("1wd").duration(short) == timedelta(hours=3)
    assert L("1wd").duration(NATIONAL) == timedelta(hours=7, minutes=30)


@PROPERTY
@given(instants, limits(WORKING_UNITS))
def test_the_direct_walk_equals_the_general_one(start: datetime, limit: Limit) -> None:
    """Without closures or pauses ``deadline`` walks the day schedule directly; an empty pause long
    before the start sends it down the general path (segments minus blocks): the same instant."""
    long_before = (at(2020, 1, 1), at(2020, 1, 1, 0, 1))
    direct = deadline(start, limit, NATIONAL)
    assert direct == deadline(start, limit, NATIONAL, paused=[long_before])
    assert working_elapsed(start, direct, NATIONAL) == limit.duration(NATIONAL)

"""The national holiday calendar from chinesecalendar 1.11.0 (pinned in pyproject)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar  # type: ignore[import-untyped]

from tenants.standards.national import COVERED_YEARS, carried_years, missing_years, national_days
from tenants.standards.worktime import WorkCalendar

NAMES = {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}


def test_covered_years_are_probed() -> None:
    # chinesecalendar 1.11.0 carries up to 2026; 2027 is not published in it. When the pin moves to a
    # release that carries 2027, this expectation changes with it.
    assert COVERED_YEARS == (2024, 2025, 2026)
    assert missing_years([2027, 2026, 2027, 2025]) == [2027]
    assert missing_years(COVERED_YEARS) == []
    assert set(COVERED_YEARS) <= carried_years()


def test_missing_years_are_skipped_without_error() -> None:
    assert national_days([2027]) == ({}, {})
    holidays, workdays = national_days([2026, 2027])
    assert {d.year for d in holidays} == {2026}
    assert {d.year for d in workdays} == {2026}


def test_spring_festival_and_national_day_2026() -> None:
    holidays, workdays = national_days([2026])
    spring = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 02-15 (Sun) .. 02-23 (Mon)
    assert all(holidays[d] == "春节" for d in spring)
    assert workdays[date(2026, 2, 14)] == "春节"  # Saturday
    assert workdays[date(2026, 2, 28)] == "春节"  # Saturday
    assert all(holidays[date(2026, 10, day)] == "国庆节" for day in range(1, 8))
    assert workdays[date(2026, 9, 20)] == "国庆节"  # Sunday
    assert workdays[date(2026, 10, 10)] == "国庆节"  # Saturday
    assert holidays[date(2026, 1, 1)] == "元旦"
    assert holidays[date(2026, 4, 5)] == "清明节"
    assert holidays[date(2026, 6, 19)] == "端午节"


def test_names_are_the_chinese_holiday_names() -> None:
    holidays, workdays = national_days(COVERED_YEARS)
    assert set(holidays.values()) <= NAMES
    assert set(workdays.values()) <= NAMES
    assert national_days([2025])[0][date(2025, 10, 6)] == "中秋节"


def test_weekend_holidays_are_kept() -> None:
    holidays, _ = national_days([2026])
    assert date(2026, 2, 15).weekday() == 6
    assert date(2026, 2, 15) in holidays
    assert date(2026, 10, 3).weekday() == 5
    assert date(2026, 10, 3) in holidays


def test_calendar_agrees_with_chinese_calendar_every_day() -> None:
    holidays, workdays = national_days(COVERED_YEARS)
    calendar = WorkCalendar.default(holidays=holidays, workdays=workdays)
    day, last = date(COVERED_YEARS[0], 1, 1), date(COVERED_YEARS[-1], 12, 31)
    while day <= last:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_missing_year_counts_weekends_only() -> None:
    holidays, workdays = national_days([2027])
    calendar = WorkCalendar.default(holidays=holidays, workdays=workdays)
    assert not calendar.is_working_day(date(2027, 1, 2))  # Saturday
    assert calendar.is_working_day(date(2027, 1, 1))  # Friday: 元旦 only once an admin adds it

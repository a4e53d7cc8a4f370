"""The national public-holiday calendar (全国法定节假日与调休), from the ``chinesecalendar`` package.

The State Council publishes each year's arrangement late in the previous year; ``chinesecalendar``
carries the years published before its release. :data:`COVERED_YEARS` is found by probing the
installed package, not written down. A year the package lacks is skipped without error (see
:func:`missing_years`): it then counts weekends only (Monday to Friday working) until an
administrator adds its holidays and make-up working days to the calendar layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import cast

import chinese_calendar  # type: ignore[import-untyped]

__all__ = ["COVERED_YEARS", "carried_years", "missing_years", "national_days"]

_Holiday = chinese_calendar.Holiday
_NAMES: dict[object, str] = {
    _Holiday.new_years_day: "元旦",
    _Holiday.spring_festival: "春节",
    _Holiday.tomb_sweeping_day: "清明节",
    _Holiday.labour_day: "劳动节",
    _Holiday.dragon_boat_festival: "端午节",
    _Holiday.mid_autumn_festival: "中秋节",
    _Holiday.national_day: "国庆节",
}
_HOLIDAYS = cast("dict[date, str]", chinese_calendar.holidays)  # date -> Holiday value (English name)
_WORKDAYS = cast("dict[date, str]", chinese_calendar.workdays)  # make-up working day -> Holiday value

# Probe: a year is carried when the package lists holidays in it (every year has at least 元旦).
_CARRIED = frozenset(d.year for d in _HOLIDAYS)
COVERED_YEARS: tuple[int, ...] = tuple(year for year in range(2024, 2028) if year in _CARRIED)


def carried_years() -> frozenset[int]:
    """Every year the installed ``chinesecalendar`` carries."""
    return _CARRIED


def missing_years(years: Iterable[int]) -> list[int]:
    """The requested years the package does not carry (sorted, without repeats)."""
    return sorted({year for year in years if year not in _CARRIED})


def national_days(years: Iterable[int]) -> tuple[dict[date, str], dict[date, str]]:
    """``(holidays, make-up working days)`` of the years the package carries, with Chinese names.

    Holidays are every day the package lists as a named holiday, including those on a weekend;
    make-up working days (调休上班) are named after the holiday they make up for.
    """
    wanted = set(years) & _CARRIED
    return _named(_HOLIDAYS, wanted), _named(_WORKDAYS, wanted)


def _named(days: dict[date, str], years: set[int]) -> dict[date, str]:
    return {d: _name(value) for d, value in sorted(days.items()) if d.year in years}


def _name(value: str) -> str:
    holiday = _Holiday(value)
    return _NAMES.get(holiday) or cast(str, holiday.chinese)

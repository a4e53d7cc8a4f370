"""Periods the pages offer (考核周期): months, their quarters and years, in Beijing time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from citylead.assessment.rollup import Period

__all__ = ["default_month", "label", "months_before", "period_days", "period_options", "recent_months"]

SH = ZoneInfo("Asia/Shanghai")


def label(period: str) -> str:
    """``2026-10`` → 2026年10月, ``2026Q4`` → 2026年第4季度, ``2026`` → 2026年."""
    if "-" in period:
        year, month = period.split("-")
        return f"{year}年{int(month)}月"
    if "Q" in period:
        year, quarter = period.split("Q")
        return f"{year}年第{quarter}季度"
    return f"{period}年"


def _month(now: datetime) -> str:
    return now.astimezone(SH).strftime("%Y-%m")


def period_options(months: Sequence[str]) -> list[dict[str, str]]:
    """The months (newest first), then the quarters and years they fall in."""
    quarters = sorted({f"{m[:4]}Q{(int(m[5:]) - 1) // 3 + 1}" for m in months}, reverse=True)
    years = sorted({m[:4] for m in months}, reverse=True)
    ordered = sorted(months, reverse=True) + quarters + years
    return [{"label": label(p), "value": p} for p in ordered]


def default_month(months: Sequence[str], now: datetime) -> str | None:
    """The last complete month with data (before ``now``'s Beijing month), else the newest."""
    current = _month(now)
    done = sorted((m for m in months if m < current), reverse=True)
    newest = sorted(months, reverse=True)
    return done[0] if done else (newest[0] if newest else None)


def months_before(period: str, n: int = 12) -> list[str]:
    """The ``n`` months ending with the period's last month, oldest first."""
    end = Period.parse(period).end.astimezone(SH)
    index = end.year * 12 + end.month - 2  # the period's last month, 0-based
    return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(index - n + 1, index + 1)]


def recent_months(now: datetime, n: int = 12) -> list[str]:
    """The ``n`` months ending with ``now``'s Beijing month, newest first."""
    return list(reversed(months_before(_month(now), n)))


def period_days(period: str) -> tuple[date, date]:
    """The Beijing days ``[since, until)`` of a period."""
    p = Period.parse(period)
    return p.start.date(), p.end.date()

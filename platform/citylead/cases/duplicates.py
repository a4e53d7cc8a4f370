"""Duplicate reports (重复上报): the same class near an open case within the manual's window joins
that case — counted on it, with an event — instead of opening another."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.events import add_event
from citylead.cases.models import Case
from citylead.cases.workflow import State
from tenants.standards.views import ClassRule
from tenants.standards.worktime import Limit, WorkCalendar, working_elapsed

__all__ = ["find_open_duplicate", "join", "metres"]

_OPEN = [s.value for s in State if not s.final]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on the sphere, equirectangular (exact enough within a few kilometres)."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return math.hypot(x, y) * 6_371_000


def _horizon(now: datetime, window: Limit, calendar: WorkCalendar) -> datetime:
    """No case reported before this can be within the window: a working window of N working days
    spans at most about 7/5 N calendar days plus the longest holiday run (a prefilter only)."""
    if not window.working:
        return now - window.duration(calendar)
    days = window.duration(calendar) / calendar.day_length
    return now - timedelta(days=math.ceil(days * 7 / 5) + 12)


async def find_open_duplicate(
    session: AsyncSession,
    county_id: uuid.UUID,
    *,
    kind: str,
    code: str,
    lon: float,
    lat: float,
    rule: ClassRule,
    calendar: WorkCalendar,
    now: datetime,
) -> Case | None:
    """The earliest open case of the class within ``rule``'s radius (metres) and window (working
    time, on the county's calendar), locked for the join; None if there is none."""
    radius, window = rule.duplicate_radius_m, rule.duplicate_window
    if radius <= 0 or window.amount <= 0:
        return None
    dlat = radius / 111_320
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    rows = await session.scalars(
        select(Case)
        .where(
            Case.tenant_id == county_id,
            Case.kind == kind,
            Case.class_code == code,
            Case.state.in_(_OPEN),
            Case.reported_at >= _horizon(now, window, calendar),
            Case.lat.between(lat - dlat, lat + dlat),
            Case.lon.between(lon - dlon, lon + dlon),
        )
        .order_by(Case.reported_at)
        .with_for_update()
    )
    allowed = window.duration(calendar)
    for case in rows:
        elapsed = (
            working_elapsed(case.reported_at, now, calendar) if window.working else now - case.reported_at
        )
        if elapsed <= allowed and metres(case.lon, case.lat, lon, lat) <= radius:
            return case
    return None


async def join(
    session: AsyncSession, case: Case, *, reason: str, data: dict[str, Any], acting_user: str, now: datetime
) -> None:
    """Count a report on ``case`` (held by this transaction) and record it in its history."""
    case.duplicate_count += 1
    case.updated_at = now
    await add_event(
        session,
        case,
        "duplicate",
        case.state,
        case.state,
        actor=acting_user,
        reason=reason,
        data=data,
        at=now,
    )

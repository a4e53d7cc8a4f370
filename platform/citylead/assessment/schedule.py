"""The scheduled refresh (定时考核统计): ``assessment.refresh_current``, sent by the scheduler every
``CITYLEAD_ASSESSMENT_REFRESH_SECONDS`` (``registry.every``, docs/jobs.md).

Each run recounts, for every live county-level division, the month of ``scheduled_at`` (Beijing
time) with its quarter and year; during the first :data:`LATE_DAYS` days of a month also the
previous month with its quarter and year, because late events (a disposal, a check, a void)
still change it. Each county's facts are brought up to date, then its periods are one
transaction (``runs.refresh_county``, two counties at a time); a county that fails does not undo
the others, and the run fails at the end (dramatiq retries it). The periods come from ``scheduled_at``, not
from the clock, and rows are replaced, never added to: a message delivered twice gives the same
rows.

The scheduler's messages belong to no tenant, and the application role sees no tenant without a
context, so the run enters each province (the GB/T 2260 provincial codes) to list its counties;
an unregistered province lists nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from citylead.assessment.rollup import SH, Period
from citylead.assessment.runs import each_county, live_counties, refresh_county
from citylead.jobs.registry import JobContext, job
from tenants.context import TenantContext
from tenants.models import Tenant

__all__ = ["JOBS", "LATE_DAYS", "PROVINCES", "periods_due", "refresh_current"]

log = logging.getLogger(__name__)

LATE_DAYS = 5
"""Days at the start of a month during which the previous month is recounted too."""
PROVINCES = (
    *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"),
    *("41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"),
    *("71", "81", "82"),
)
"""The provincial-level divisions (GB/T 2260), as the first segment of a tenant path."""


def periods_due(scheduled_at: datetime) -> list[Period]:
    """The periods a run at ``scheduled_at`` recounts: its month, quarter and year (Beijing time),
    and in the first ``LATE_DAYS`` days the previous month's as well; each once, newest first."""
    local = scheduled_at.astimezone(SH)
    months = [(local.year, local.month)]
    if local.day <= LATE_DAYS:
        months.append((local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1))
    labels: list[str] = []
    for year, month in months:
        for label in (f"{year}-{month:02d}", f"{year}Q{(month - 1) // 3 + 1}", f"{year}"):
            if label not in labels:
                labels.append(label)
    return [Period.parse(label) for label in labels]


@job("assessment.refresh_current", queue="default", max_retries=3, time_limit_ms=60 * 60_000)
async def refresh_current(
    ctx: JobContext,
    *,
    scheduled_at: str,
    tenant_path: str | None = None,
    actor: str = "system:assessment",
) -> None:
    """Recount the current periods of every live division (below ``tenant_path`` when given)."""
    periods = periods_due(datetime.fromisoformat(scheduled_at))
    scopes: Sequence[TenantContext] = (
        [TenantContext(tenant_path)] if tenant_path else [TenantContext(f"/{pp}/") for pp in PROVINCES]
    )
    failed: list[str] = []

    def done(county: Tenant, result: object) -> None:
        if isinstance(result, BaseException):
            log.error("assessment.refresh_current: %s failed", county.code, exc_info=result)
            failed.append(county.code)

    for scope in scopes:
        await each_county(
            await live_counties(ctx.db, scope),
            lambda county: refresh_county(ctx.db, county, periods, acting_user=actor),
            on_done=done,
        )
    if failed:
        raise RuntimeError(
            f"assessment.refresh_current: {len(failed)} division(s) failed: {', '.join(failed)}"
        )


JOBS = (refresh_current,)

"""Counting generated history at once (统计演示历史): after ``citylead demo generate`` (and the
history ``citylead up`` seeds), every division's assessment roll-ups of the generated months and
of the quarters and years they touch, and its monthly case volumes (``case_volume``) of those
months, so the dashboard shows them without a ``citylead assess run`` per month.

Only the public runs are used: ``refresh_counties`` (each division in its own transactions and
context, its facts brought up to date first) and ``do_refresh_volume`` (in the county's context),
over the same live divisions ``generate_history`` fills (``live_counties``). Both replace their
rows, so counting again gives the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from citylead.assessment.rollup import Period
from citylead.assessment.runs import live_counties, refresh_counties
from citylead.cases.volume import do_refresh_volume
from citylead.db import Database
from tenants.context import TenantContext

__all__ = ["CountReport", "Step", "count_history", "periods_touched"]

Step = Callable[[str, int, int], None]
"""Told after each step: what was counted (``评价 2026Q4``, ``案件量 320411``), steps done, steps in all."""


@dataclass(frozen=True)
class CountReport:
    periods: list[str]  # the roll-up periods refreshed: months, then quarters, then years
    divisions: int
    seconds: float


def periods_touched(months: Sequence[str]) -> list[str]:
    """The months (``2026-10``), then the quarters (``2026Q4``) and the years (``2026``) they fall
    in, each once, in order."""
    quarters = [f"{m[:4]}Q{(int(m[5:7]) - 1) // 3 + 1}" for m in months]
    years = [m[:4] for m in months]
    return list(dict.fromkeys([*months, *quarters, *years]))


async def count_history(
    db: Database,
    scope: TenantContext,
    months: Sequence[str],
    *,
    acting_user: str = "system:demo",
    on_step: Step = lambda *_: None,
) -> CountReport:
    """Recount ``months`` (labels, ``2026-10``) for every live division below ``scope``: the
    assessment roll-ups of the months, quarters and years, then each division's case volumes of
    the months (one transaction a division)."""
    started = time.monotonic()
    periods = periods_touched(months)
    counties = await live_counties(db, scope)
    total, done = len(periods) + len(counties), 0
    for label in periods:
        await refresh_counties(db, scope, Period.parse(label), acting_user=acting_user)
        done += 1
        on_step(f"评价 {label}", done, total)
    for county in counties:
        async with db.transaction(TenantContext(county.path)) as s:
            for label in months:
                await do_refresh_volume(s, county, Period.parse(label), acting_user=acting_user)
        done += 1
        on_step(f"案件量 {county.code}", done, total)
    return CountReport(periods, len(counties), time.monotonic() - started)

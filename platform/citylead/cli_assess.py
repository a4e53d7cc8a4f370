"""``citylead assess run``: the assessment roll-ups of a period, on demand (考核统计)."""

from __future__ import annotations

import asyncio

import click
from rich.progress import Progress
from rich.table import Table

from citylead.cli_support import cli_actor, console, friendly, load_settings

__all__ = ["assess"]


@click.group()
def assess() -> None:
    """Assessment roll-ups (绩效评价统计)."""


@assess.command("run")
@click.option("--period", required=True, help="2026-10 (month), 2026Q4 (quarter) or 2026 (year).")
@click.option(
    "--tenant", "code", default="320000", show_default=True, help="Refresh every live division below it."
)
@friendly
def run(period: str, code: str) -> None:
    """Count the period's cases into the roll-ups of every live division below TENANT."""
    from sqlalchemy import select

    from citylead.assessment.rollup import Period, RefreshReport
    from citylead.assessment.runs import live_counties, refresh_counties
    from citylead.db import Database
    from citylead.runtime import prepare
    from tenants.context import TenantContext
    from tenants.errors import NotFound
    from tenants.models import Tenant

    parsed = Period.parse(period)
    runtime = prepare(load_settings())

    async def go() -> list[tuple[str, str, int, int]]:
        db = Database(runtime.urls.app, pool_size=1)
        try:
            async with db.transaction(TenantContext(f"/{code[:2]}/")) as s:
                path = await s.scalar(select(Tenant.path).where(Tenant.code == code))
            if path is None:
                raise NotFound(f"no tenant {code}")
            scope = TenantContext(path)
            total = len(await live_counties(db, scope))
            rows: list[tuple[str, str, int, int]] = []
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task(f"{parsed.label}", total=total)

                def done(county: Tenant, report: RefreshReport) -> None:
                    rows.append((county.code, county.name, report.subjects, report.replaced))
                    progress.advance(task)

                await refresh_counties(db, scope, parsed, acting_user=cli_actor(), on_done=done)
            return rows
        finally:
            await db.dispose()

    try:
        rows = asyncio.run(go())
    finally:
        runtime.stop()
    table = Table(title=f"Assessment roll-ups {parsed.label} below {code}", title_justify="left")
    for col in ("code", "name", "subjects", "rows replaced"):
        table.add_column(col)
    for c, n, subjects, replaced in rows:
        table.add_row(c, n, str(subjects), str(replaced))
    console.print(table)
    console.print(f"{len(rows)} division(s) refreshed")

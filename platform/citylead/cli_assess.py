"""``citylead assess run``: the assessment roll-ups of a period, on demand (考核统计);
``citylead assess export``: the scored results as a CSV or XLSX file (考核结果导出)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import Progress
from rich.table import Table

from citylead.cli_support import cli_actor, console, friendly, in_tenant, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenants.models import Tenant

__all__ = ["assess"]


@click.group()
def assess() -> None:
    """Assessment roll-ups (绩效评价统计)."""


@assess.command("run")
@click.option("--period", required=True, help="2026-10 (month), 2026Q4 (quarter) or 2026 (year).")
@click.option(
    "--tenant", "code", default="320000", show_default=True, help="Refresh every live division below it."
)
@click.option(
    "--concurrency", default=2, show_default=True, help="Divisions refreshed at once (one connection each)."
)
@friendly
def run(period: str, code: str, concurrency: int) -> None:
    """Count the period's cases into the roll-ups of every live division below TENANT (their
    facts are brought up to date first)."""
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
        db = Database(runtime.urls.app, pool_size=max(1, concurrency))
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

                await refresh_counties(
                    db, scope, parsed, acting_user=cli_actor(), on_done=done, concurrency=concurrency
                )
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


@assess.command("export")
@click.option("--period", required=True, help="2026-10 (month), 2026Q4 (quarter) or 2026 (year).")
@click.option("--tenant", "code", default="320000", show_default=True, help="The tenant and all below it.")
@click.option(
    "--subject-type", default=None, help="province, city, county, street, grid, department or a post."
)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@friendly
def export(period: str, code: str, subject_type: str | None, fmt: str, out: Path) -> None:
    """Write the scored results of PERIOD below TENANT to a CSV or XLSX file (Chinese headers)."""
    from citylead.assessment.export import assessment_table
    from citylead.assessment.results import Result, list_assessments
    from citylead.assessment.rollup import Period
    from citylead.spreadsheets import to_csv, to_xlsx
    from tenants.context import TenantContext
    from tenants.standards.resolver import Resolver

    parsed = Period.parse(period)

    async def work(s: AsyncSession, tenant: Tenant) -> list[Result]:
        scope = TenantContext(tenant.path)
        return await list_assessments(s, scope, period=parsed, resolver=Resolver(), subject_type=subject_type)

    results = in_tenant(code, work)
    table = assessment_table(results)
    out.write_bytes(to_csv(table) if fmt == "csv" else to_xlsx(table))
    console.print(f"{len(results)} row(s) of {parsed.label} below {code} written to {out}")

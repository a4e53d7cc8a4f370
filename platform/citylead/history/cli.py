"""``citylead demo generate``: months of realistic case history for the live divisions (演示历史)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from citylead.cli_support import cli_actor, console, friendly, load_settings

__all__ = ["demo"]


@click.group()
def demo() -> None:
    """The demo province's data (演示数据)."""


@demo.command("generate")
@click.option("--months", type=click.IntRange(1, 120), default=12, show_default=True)
@click.option(
    "--cases-per-division-month",
    "per",
    type=click.IntRange(1, 100_000),
    required=True,
    help="Cases per month.",
)
@click.option("--tenant", "code", default="320000", show_default=True, help="Every live division below it.")
@click.option("--seed", default="citylead-demo", show_default=True, help="Same seed, same history.")
@click.option("--end", default=None, help="The last month, e.g. 2026-11 (default: the current month).")
@click.option("--jobs", type=click.IntRange(1, 16), default=1, show_default=True, help="Divisions at once.")
@click.option(
    "--via",
    type=click.Choice(["bulk", "workflow"]),
    default="bulk",
    show_default=True,
    help="bulk: COPY built rows; workflow: replay every step through the actions (slow).",
)
@click.option(
    "--no-count",
    "no_count",
    is_flag=True,
    help="Leave the assessment roll-ups and case volumes of the months uncounted.",
)
@friendly
def generate(
    months: int, per: int, code: str, seed: str, end: str | None, jobs: int, via: str, no_count: bool
) -> None:
    """Generate MONTHS months of cases for every live county-level division below TENANT, then
    count their assessment roll-ups (months, quarters, years) and monthly case volumes.

    Generated cases carry external_id demo:YYYY-MM:N; a month already generated is refused."""
    from sqlalchemy import select

    from citylead.db import Database
    from citylead.history.count import CountReport, count_history
    from citylead.history.generate import SH, HistoryReport, generate_history, months_ending
    from citylead.runtime import prepare
    from tenants.context import TenantContext
    from tenants.errors import NotFound
    from tenants.models import Tenant

    now = datetime.now(SH)
    periods = months_ending(end or f"{now:%Y-%m}", months)
    runtime = prepare(load_settings())
    per_division: dict[str, list[int]] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())

    async def go() -> tuple[HistoryReport, CountReport | None]:
        db = Database(runtime.urls.app, pool_size=2)
        try:
            async with db.transaction(TenantContext(f"/{code[:2]}/")) as s:
                path = await s.scalar(select(Tenant.path).where(Tenant.code == code))
            if path is None:
                raise NotFound(f"no tenant {code}")
            with Progress(*columns, console=console, transient=True) as progress:
                task = progress.add_task("division-months", total=None)

                def month_done(county: Tenant, month: str, cases: int, events: int) -> None:
                    row = per_division.setdefault(f"{county.code} {county.name}", [0, 0])
                    row[0], row[1] = row[0] + cases, row[1] + events
                    progress.update(task, advance=1, description=f"{county.code} {month}")

                report = await generate_history(
                    db,
                    TenantContext(path),
                    periods,
                    per,
                    acting_user=cli_actor(),
                    seed=seed,
                    now=now,
                    real=via == "workflow",
                    jobs=jobs,
                    on_start=lambda total: progress.update(task, total=total),
                    on_month=month_done,
                )
            if no_count:
                return report, None
            with Progress(*columns, console=console, transient=True) as progress:
                task = progress.add_task("counting", total=None)

                def step(what: str, done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total, description=f"counting {what}")

                counted = await count_history(
                    db, TenantContext(path), [p.label for p in periods], acting_user=cli_actor(), on_step=step
                )
            return report, counted
        finally:
            await db.dispose()

    try:
        report, counted = asyncio.run(go())
    finally:
        runtime.stop()
    table = Table(
        title=f"Demo history {periods[0].label} … {periods[-1].label} below {code}", title_justify="left"
    )
    for col in ("division", "cases", "events"):
        table.add_column(col)
    for name, (cases, events) in sorted(per_division.items()):
        table.add_row(name, str(cases), str(events))
    console.print(table)
    console.print(
        f"{report.divisions} division(s), {report.cases} cases, {report.events} events "
        f"in {report.seconds:.1f} s ({report.rate:.0f} cases/s)"
    )
    if counted is None:
        console.print("Not counted (--no-count): run citylead assess run --period P for each month.")
    else:
        console.print(
            f"Counted {', '.join(counted.periods)} for {counted.divisions} division(s) "
            f"(roll-ups and case volumes) in {counted.seconds:.1f} s"
        )

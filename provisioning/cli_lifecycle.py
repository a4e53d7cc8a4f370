"""``citylead tenant``: suspend (停用), resume (恢复) and export (导出) a tenant from the shell.

The commands connect as the application role, audited as ``cli:<login>``, in the context of the
tenant's *parent* (the province for the province itself): a suspended tenant's own context is
read-only, and the status changes only from above. Row-level security applies as in the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cli_support import cli_actor, console, friendly, in_tenant, load_settings
from provisioning.export import STEPS, ExportReport, export_tenant
from provisioning.lifecycle import TenantSuspended, do_resume, do_suspend, is_read_only_error
from tenants.models import Tenant

__all__ = ["tenant"]

T = TypeVar("T")


def _from_parent(
    code: str, work: Callable[[AsyncSession, Tenant], Awaitable[T]], *, snapshot: bool = False
) -> T:
    """Run ``work`` in one transaction in the context of tenant ``code``'s parent, as the
    application role (``snapshot``: REPEATABLE READ, one snapshot for every file of an export)."""
    try:
        return in_tenant(
            code, work, from_parent=True, isolation_level="REPEATABLE READ" if snapshot else None
        )
    except DBAPIError as exc:
        if is_read_only_error(exc):
            raise TenantSuspended(f"{code} or a tenant above it is suspended (已停用)") from None
        raise


@click.group()
def tenant() -> None:
    """Suspend, resume and export a tenant (停用 / 恢复 / 导出)."""


@tenant.command()
@click.argument("code")
@click.option("--reason", required=True, help="Why (停用原因), recorded in the tenant's audit trail.")
@friendly
def suspend(code: str, reason: str) -> None:
    """Suspend live tenant CODE: its data (and its subtree's) becomes read-only."""

    async def work(s: AsyncSession, target: Tenant) -> Tenant:
        return await do_suspend(s, target, reason=reason, acting_user=cli_actor())

    done = _from_parent(code, work)
    console.print(f"{done.code} {done.name}: {done.status.label} ({done.status.value})", soft_wrap=True)


@tenant.command()
@click.argument("code")
@friendly
def resume(code: str) -> None:
    """Resume suspended tenant CODE: it may be changed again."""

    async def work(s: AsyncSession, target: Tenant) -> Tenant:
        return await do_resume(s, target, acting_user=cli_actor())

    done = _from_parent(code, work)
    console.print(f"{done.code} {done.name}: {done.status.label} ({done.status.value})", soft_wrap=True)


@tenant.command()
@click.argument("code")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The archive to write (FILE.zip).",
)
@click.option("--photos/--no-photos", default=True, help="Include case photos from the blob store.")
@friendly
def export(code: str, out: Path, photos: bool) -> None:
    """Export tenant CODE (live or suspended) as a zip archive: JSON, CSV, GeoJSON and photos."""
    from citylead.blobs import blob_store

    blobs = blob_store(load_settings()) if photos else None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task(f"Exporting {code}", total=len(STEPS))

        def step(name: str) -> None:
            progress.update(task, advance=1, description=f"Exporting {code}: {name}")

        async def work(s: AsyncSession, target: Tenant) -> ExportReport:
            return await export_tenant(s, target, out, blobs=blobs, acting_user=cli_actor(), on_step=step)

        try:
            report = _from_parent(code, work, snapshot=True)
        except BaseException:
            out.unlink(missing_ok=True)  # never leave half an archive behind
            raise
    table = Table("file", "rows")
    for name, rows in report.counts().items():
        table.add_row(name, str(rows))
    table.add_row("photos/", str(report.photos))
    console.print(table)
    if report.missing_photos:
        console.print(f"[yellow]{len(report.missing_photos)} photos not found in the blob store[/]")
    console.print(f"{out}: {report.archive_bytes} bytes, sha256 {report.archive_sha256}", soft_wrap=True)

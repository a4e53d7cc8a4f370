"""Export a tenant (导出): all of its own rows as one zip archive that could seed a new installation.

The archive (docs/lifecycle.md) holds a manifest with counts and SHA-256 per file; the registry
entry with its boundary and profile; the tenant's own standards layers; its geography, units and
component inventory in exactly the formats the imports read; every case, event, photo record
(and the photos, given a blob store); its audit trail, notifications and Open311 clients (without
key hashes). Rows are streamed with server-side cursors, never all held in memory.

The session is in the exporter's context: the tenant itself or an ancestor, whose subtree reads
include the tenant's rows. Begin it with :func:`begin_snapshot` so that every file comes from one
snapshot. The export is audited in the exporter's own trail, so a suspended tenant (read-only) is
exported by an administrator above it.
"""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.blobs import BlobStore
from provisioning import _export_files as files
from provisioning._archive import Archive, ArchiveFile, to_json
from provisioning.lifecycle import TenantSuspended, require_writable
from tenants import audit
from tenants.errors import NotFound
from tenants.models import Tenant

__all__ = ["FORMAT", "FORMAT_VERSION", "STEPS", "ExportReport", "begin_snapshot", "export_tenant"]

FORMAT = "citylead-tenant-archive"
FORMAT_VERSION = 1
# What ``on_step`` is told, in order; ``standards/`` and ``photos/`` are groups of files.
STEPS = (
    "tenant.json",
    "standards/",
    "geography.geojson",
    "units.csv",
    "units_inactive.csv",
    "components.csv",
    "cases.csv",
    "cases.jsonl",
    "case_events.csv",
    "case_attachments.csv",
    "photos/",
    "audit_events.csv",
    "notifications.csv",
    "open311_clients.csv",
    "manifest.json",
)
BEIJING = ZoneInfo("Asia/Shanghai")  # zip keeps local times
_EXPORTER = text("SELECT current_setting('app.tenant_id', true), now()")


@dataclass
class ExportReport:
    tenant: str
    exported_at: datetime
    files: list[ArchiveFile] = field(default_factory=list)  # manifest.json aside
    missing_photos: list[str] = field(default_factory=list)
    archive_sha256: str | None = None  # None when ``out`` cannot be read back (not seekable)
    archive_bytes: int | None = None

    def counts(self) -> dict[str, int]:
        """Rows per data file (photos left out)."""
        return {f.name: f.rows for f in self.files if not f.name.startswith("photos/")}

    @property
    def photos(self) -> int:
        return sum(1 for f in self.files if f.name.startswith("photos/"))


async def begin_snapshot(session: AsyncSession) -> None:
    """Make the session's transaction REPEATABLE READ (one snapshot for every file). Call it first,
    before any query: the isolation level is set when the transaction takes its connection."""
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def _write(
    archive: Archive,
    session: AsyncSession,
    tenant: Tenant,
    blobs: BlobStore | None,
    report: ExportReport,
    step: Callable[[str], None],
) -> None:
    add, extend = report.files.append, report.files.extend
    add(await files.tenant_json(archive, session, tenant))
    step("tenant.json")
    extend(await files.standards(archive, session, tenant))
    step("standards/")
    add(await files.geography(archive, session, tenant))
    step("geography.geojson")
    for active in (True, False):
        add(await files.units(archive, session, tenant, active=active))
        step("units.csv" if active else "units_inactive.csv")
    add(await files.components(archive, session, tenant))
    step("components.csv")
    cases = files.own(files.CASES, tenant, "reported_at", "id")
    add(await files.table_csv(archive, session, "cases.csv", cases, files.columns(files.CASES)))
    step("cases.csv")
    add(await files.cases_jsonl(archive, session, tenant))
    step("cases.jsonl")
    for name, table, order in (
        ("case_events.csv", files.CASE_EVENTS, ("case_id", "seq")),
        ("case_attachments.csv", files.CASE_ATTACHMENTS, ("case_id", "uploaded_at", "id")),
    ):
        add(
            await files.table_csv(
                archive, session, name, files.own(table, tenant, *order), files.columns(table)
            )
        )
        step(name)
    if blobs is not None:
        extend(await files.photos(archive, session, tenant, blobs, report.missing_photos))
    step("photos/")
    for name, table, order in (
        ("audit_events.csv", files.AUDIT, ("at", "id")),
        ("notifications.csv", files.NOTIFICATIONS, ("created_at", "id")),
    ):
        add(
            await files.table_csv(
                archive, session, name, files.own(table, tenant, *order), files.columns(table)
            )
        )
        step(name)
    clients = files.OPEN311_CLIENTS
    header = files.columns(clients, without=("key_hash",))  # never the key hashes
    query = select(*(clients.c[c] for c in header)).where(clients.c.tenant_id == tenant.id)
    query = query.order_by(clients.c.created_at, clients.c.id)
    add(await files.table_csv(archive, session, "open311_clients.csv", query, header))
    step("open311_clients.csv")


def _manifest(report: ExportReport, tenant: Tenant, acting_user: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tenant": {
            "code": tenant.code,
            "name": tenant.name,
            "level": tenant.level.value,
            "path": tenant.path,
            "status": tenant.status.value,
        },
        "exported_at": report.exported_at,
        "exported_by": acting_user,
        "files": {f.name: {"rows": f.rows, "bytes": f.bytes, "sha256": f.sha256} for f in report.files},
        "missing_photos": report.missing_photos,
    }


def _digest(stream: IO[bytes], start: int) -> tuple[str, int] | None:
    """SHA-256 and size of what was written from ``start``; the stream is left at its end."""
    if not (stream.seekable() and stream.readable()):
        return None
    end = stream.tell()
    stream.seek(start)
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(end)
    return digest.hexdigest(), size


async def export_tenant(
    session: AsyncSession,
    tenant: Tenant,
    out: IO[bytes] | Path,
    *,
    blobs: BlobStore | None,
    acting_user: str,
    on_step: Callable[[str], None] | None = None,
) -> ExportReport:
    """Write ``tenant``'s archive to ``out`` (a path, or a binary stream left open) and audit it in
    the exporter's trail (``tenant.exported``). ``on_step`` is told each of :data:`STEPS` when done."""
    try:
        await require_writable(session)
    except TenantSuspended as exc:
        detail = f"{exc.detail}; an export is audited, so an administrator above it exports it"
        raise TenantSuspended(detail, **exc.extra) from None
    exporter, now = (await session.execute(_EXPORTER)).one()
    if not exporter:  # a transaction without a tenant context sees no tenant's rows
        raise NotFound(f"no tenant {tenant.code}")
    report = ExportReport(tenant=tenant.code, exported_at=now)
    step = on_step or (lambda _: None)
    stream: IO[bytes] = out.open("w+b") if isinstance(out, Path) else out
    try:
        start = stream.tell() if stream.seekable() else 0
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as zip_file:
            archive = Archive(zip_file, now.astimezone(BEIJING))
            await _write(archive, session, tenant, blobs, report, step)
            manifest = archive.member("manifest.json")
            manifest.text(to_json(_manifest(report, tenant, acting_user), indent=2) + "\n")
            manifest.close()
            step("manifest.json")
        digest = _digest(stream, start)
    finally:
        if isinstance(out, Path):
            stream.close()
    if digest is not None:
        report.archive_sha256, report.archive_bytes = digest
    await audit.record(
        session,
        uuid.UUID(exporter),
        actor=acting_user,
        action="tenant.exported",
        subject=f"tenant:{tenant.code}",
        format=f"{FORMAT}/{FORMAT_VERSION}",
        tenant_status=tenant.status.value,
        counts=report.counts(),
        photos=report.photos,
        missing_photos=len(report.missing_photos),
        archive_sha256=report.archive_sha256,
    )
    await session.flush()
    return report

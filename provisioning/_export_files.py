"""The files of a tenant archive, one writer each. Every query names the tenant explicitly (row-level
security limits the exporter's view as well); large tables stream through server-side cursors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.blobs import BlobStore
from citylead.cases.models import Case, CaseAttachment, CaseEvent
from citylead.geography.models import Community, Geography, Grid, Street
from citylead.jobs.notifications import Notification
from citylead.open311.keys import Open311Client
from citylead.units._formats import COLUMNS
from citylead.units.models import Component, Unit
from provisioning._archive import Archive, ArchiveFile, to_json
from provisioning.inputs import UNIT_COLUMNS
from tenants.audit import AuditEvent
from tenants.errors import NotFound
from tenants.models import Tenant
from tenants.profiles import TenantProfile
from tenants.standards.models import StandardDraft, StandardVersion

__all__ = [
    "AUDIT",
    "CASES",
    "CASE_ATTACHMENTS",
    "CASE_EVENTS",
    "NOTIFICATIONS",
    "OPEN311_CLIENTS",
    "UNIT_COLUMNS",
    "cases_jsonl",
    "columns",
    "components",
    "geography",
    "own",
    "photos",
    "standards",
    "table_csv",
    "tenant_json",
    "units",
]

YIELD_PER = 1000


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


CASES = _table(Case)
CASE_EVENTS = _table(CaseEvent)
CASE_ATTACHMENTS = _table(CaseAttachment)
AUDIT = _table(AuditEvent)
NOTIFICATIONS = _table(Notification)
OPEN311_CLIENTS = _table(Open311Client)
_COMPONENTS = _table(Component)
_VERSIONS = _table(StandardVersion)
_DRAFTS = _table(StandardDraft)


async def _rows(session: AsyncSession, query: Select[Any]) -> AsyncIterator[Any]:
    result = await session.stream(query.execution_options(yield_per=YIELD_PER))
    async for row in result:
        yield row


def own(table: Table, tenant: Tenant, *order: str) -> Select[Any]:
    """Every column of the tenant's rows of ``table``, in ``order``."""
    return select(table).where(table.c.tenant_id == tenant.id).order_by(*(table.c[o] for o in order))


def columns(table: Table, *, without: Sequence[str] = ()) -> list[str]:
    return [c.name for c in table.columns if c.name not in without]


async def table_csv(
    archive: Archive, session: AsyncSession, name: str, query: Select[Any], header: Sequence[str]
) -> ArchiveFile:
    member = archive.csv(name, header)
    async for row in _rows(session, query):
        member.row(row)
    return member.close()


def _json_member(archive: Archive, name: str, doc: Any, rows: int) -> ArchiveFile:
    member = archive.member(name)
    member.rows = rows
    member.text(to_json(doc, indent=2) + "\n")
    return member.close()


def _without(row: Any, *names: str) -> dict[str, Any] | None:
    return {k: v for k, v in row.items() if k not in names} if row is not None else None


async def _one(session: AsyncSession, model: type[Any], tenant: Tenant) -> dict[str, Any] | None:
    table = _table(model)
    row = (await session.execute(select(table).where(table.c.tenant_id == tenant.id))).mappings().first()
    return _without(row, "tenant_id")


async def tenant_json(archive: Archive, session: AsyncSession, tenant: Tenant) -> ArchiveFile:
    """The registry entry (with its boundary), the profile and the geography's version."""
    parent = await session.scalar(select(Tenant.code).where(Tenant.id == tenant.parent_id))
    entry = {
        "code": tenant.code,
        "name": tenant.name,
        "level": tenant.level.value,
        "level_label": tenant.level.label,
        "path": tenant.path,
        "parent_code": parent,
        "status": tenant.status.value,
        "status_label": tenant.status.label,
        "area_km2": tenant.area_km2,
        "live_since": tenant.live_since,
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
        "version": tenant.version,
        "boundary": await session.scalar(select(Tenant.boundary).where(Tenant.id == tenant.id)),
        "profile": await _one(session, TenantProfile, tenant),
        "geography": await _one(session, Geography, tenant),
    }
    return _json_member(archive, "tenant.json", entry, 1)


async def standards(archive: Archive, session: AsyncSession, tenant: Tenant) -> list[ArchiveFile]:
    """``standards/{kind}.json``: the tenant's own published versions and its draft, per kind."""
    kinds = sorted(
        set(await session.scalars(select(_VERSIONS.c.kind).where(_VERSIONS.c.tenant_id == tenant.id)))
        | set(await session.scalars(select(_DRAFTS.c.kind).where(_DRAFTS.c.tenant_id == tenant.id)))
    )
    files = []
    for kind in kinds:
        mine = select(_VERSIONS).where(_VERSIONS.c.tenant_id == tenant.id, _VERSIONS.c.kind == kind)
        versions = (await session.execute(mine.order_by(_VERSIONS.c.number))).mappings().all()
        draft = select(_DRAFTS).where(_DRAFTS.c.tenant_id == tenant.id, _DRAFTS.c.kind == kind)
        doc = {
            "tenant": tenant.code,
            "kind": kind,
            "versions": [_without(v, "tenant_id", "kind") for v in versions],
            "draft": _without((await session.execute(draft)).mappings().first(), "tenant_id", "kind"),
        }
        files.append(_json_member(archive, f"standards/{kind}.json", doc, len(versions)))
    return files


async def geography(archive: Archive, session: AsyncSession, tenant: Tenant) -> ArchiveFile:
    """The import format of docs/geography.md: streets, communities, then grids with polygons."""
    member = archive.member("geography.geojson")
    member.text('{"type": "FeatureCollection", "features": [\n')

    def feature(props: dict[str, Any], geometry: dict[str, Any] | None = None) -> None:
        sep = ",\n" if member.rows else ""
        member.text(sep + to_json({"type": "Feature", "properties": props, "geometry": geometry}))
        member.rows += 1

    for s in await session.scalars(select(Street).where(Street.tenant_id == tenant.id).order_by(Street.code)):
        feature({"layer": "street", "code": s.code, "name": s.name, "kind": s.kind})
    communities = select(Community).where(Community.tenant_id == tenant.id).order_by(Community.code)
    for c in await session.scalars(communities):
        feature({"layer": "community", "code": c.code, "name": c.name, "street_code": c.street_code})
    grids = select(Grid.code, Grid.street_code, Grid.community_code, Grid.geometry)
    async for code, street, community, shape in _rows(
        session, grids.where(Grid.tenant_id == tenant.id).order_by(Grid.code)
    ):
        feature({"layer": "grid", "code": code, "street_code": street, "community_code": community}, shape)
    member.text("\n]}\n")
    return member.close()


async def units(archive: Archive, session: AsyncSession, tenant: Tenant, *, active: bool) -> ArchiveFile:
    """The units file (``classes`` and ``accounts`` joined by ``;``): the active units in
    ``units.csv``, the deactivated ones (kept for the record) in ``units_inactive.csv``."""
    member = archive.csv("units.csv" if active else "units_inactive.csv", UNIT_COLUMNS)
    query = select(Unit).where(Unit.tenant_id == tenant.id, Unit.active.is_(active)).order_by(Unit.code)
    for u in await session.scalars(query):
        lists = ";".join(u.classes), ";".join(u.accounts)
        member.row([u.code, u.name, u.kind, u.sector, u.street_code, *lists, u.credit_code, u.contact])
    return member.close()


async def components(archive: Archive, session: AsyncSession, tenant: Tenant) -> ArchiveFile:
    """The inventory import format (``citylead.units._formats.COLUMNS``), one object per row."""
    query = select(*(_COMPONENTS.c[name] for name in COLUMNS)).where(_COMPONENTS.c.tenant_id == tenant.id)
    return await table_csv(
        archive, session, "components.csv", query.order_by(_COMPONENTS.c.object_id), COLUMNS
    )


async def cases_jsonl(archive: Archive, session: AsyncSession, tenant: Tenant) -> ArchiveFile:
    """Every case with all its columns, one JSON object a line (JSON columns stay structured)."""
    member = archive.member("cases.jsonl")
    async for row in _rows(session, own(CASES, tenant, "reported_at", "id")):
        member.text(to_json(dict(row._mapping)) + "\n")
        member.rows += 1
    return member.close()


async def photos(
    archive: Archive, session: AsyncSession, tenant: Tenant, blobs: BlobStore, missing: list[str]
) -> list[ArchiveFile]:
    """``photos/{key}`` for every stored photo of the tenant's cases; keys not in the store are
    listed in ``missing``."""
    files = []
    keys = select(CASE_ATTACHMENTS.c.key).where(CASE_ATTACHMENTS.c.tenant_id == tenant.id).distinct()
    async for (key,) in _rows(session, keys.order_by(CASE_ATTACHMENTS.c.key)):
        try:
            data = await blobs.get(key)
        except NotFound:
            missing.append(key)
            continue
        member = archive.member(f"photos/{key}")
        member.write(data)
        files.append(member.close())
    return files

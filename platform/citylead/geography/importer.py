"""Importing a county's geography (辖区地理导入): check everything, then replace it in one go.

Rows that stay are updated in place (upsert by code) and rows that are gone are deleted, so a
re-import does not disturb what other tables reference by code (a territorial unit per street,
a case's grid). If a code that is gone is still referenced, the import is refused (409).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.geography.index import CountyIndex, GridEntry, Locator
from citylead.geography.models import Community, Geography, Grid, Street
from citylead.geography.validation import Checked, check_geography
from tenants import audit
from tenants.errors import Conflict, FieldProblem, InvalidInput
from tenants.models import Tenant

__all__ = ["ImportReport", "do_import_geography", "require_division"]


@dataclass(frozen=True, slots=True)
class ImportReport:
    county: str
    version: int
    streets: int
    communities: int
    grids: int
    area_km2: float
    removed: dict[str, int]


def require_division(county: Tenant) -> None:
    """Geography is kept per county-level division (市辖区, 县级市, 县), not per city or province."""
    if not county.level.is_division:
        raise InvalidInput(
            f"geography is kept per county-level division; {county.name} ({county.code}) is a "
            f"{county.level.label}",
            errors=[
                FieldProblem("code", "must be a county-level division (市辖区, 县级市 or 县)", county.code)
            ],
        )


async def do_import_geography(
    session: AsyncSession,
    county: Tenant,
    collection: object,
    *,
    acting_user: str,
    locator: Locator | None = None,
) -> ImportReport:
    """Replace ``county``'s streets, communities and grids with ``collection`` (GeoJSON, see
    docs/geography.md), bump its geography version and audit it. Any problem: InvalidInput with
    every problem, and nothing written. ``locator`` (this process's) gets the new index at commit.

    The caller's transaction must be in ``county``'s own context: RLS lets it write only its rows.
    """
    require_division(county)
    boundary = await session.scalar(select(Tenant.boundary).where(Tenant.id == county.id))
    if boundary is None:
        raise InvalidInput(f"{county.name} ({county.code}) has no boundary in the registry")
    checked = await asyncio.to_thread(
        check_geography, collection, county_code=county.code, county_name=county.name, boundary=boundary
    )
    version = await _bump(session, county, checked, acting_user)
    removed = await _replace(session, county, checked)
    area_km2 = round(sum(g.area_m2 for g in checked.grids) / 1e6, 3)
    await audit.record(
        session,
        county.id,
        actor=acting_user,
        action="geography.imported",
        subject=f"tenant:{county.code}",
        version=version,
        streets=len(checked.streets),
        communities=len(checked.communities),
        grids=len(checked.grids),
        area_km2=area_km2,
        removed=removed,
    )
    await session.flush()
    if locator is not None:
        index = CountyIndex(
            boundary=boundary,
            grids=[GridEntry(g.code, g.street_code, g.community_code, g.shape) for g in checked.grids],
            street_names={s.code: s.name for s in checked.streets},
            community_names={c.code: c.name for c in checked.communities},
            version=version,
            tenant_version=county.version,
        )
        locator.install_on_commit(session, county.id, index)
    return ImportReport(
        county.code,
        version,
        len(checked.streets),
        len(checked.communities),
        len(checked.grids),
        area_km2,
        removed,
    )


async def _bump(session: AsyncSession, county: Tenant, checked: Checked, acting_user: str) -> int:
    """Insert or bump the county's geography row; its row lock serialises concurrent imports."""
    counts = {
        "streets": len(checked.streets),
        "communities": len(checked.communities),
        "grids": len(checked.grids),
    }
    stmt = insert(Geography).values(tenant_id=county.id, version=1, imported_by=acting_user, **counts)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Geography.tenant_id],
        set_={
            "version": Geography.version + 1,
            "imported_at": func.now(),
            "imported_by": stmt.excluded.imported_by,
            **{k: stmt.excluded[k] for k in counts},
        },
    )
    version = await session.scalar(stmt.returning(Geography.version))
    assert version is not None
    return int(version)


async def _replace(session: AsyncSession, county: Tenant, checked: Checked) -> dict[str, int]:
    """Upsert parents before children, then delete what is gone, children before parents."""
    t = county.id
    batches: list[tuple[Any, list[dict[str, Any]], list[str]]] = [
        (
            Street,
            [{"tenant_id": t, "code": s.code, "name": s.name, "kind": s.kind.value} for s in checked.streets],
            ["name", "kind"],
        ),
        (
            Community,
            [
                {"tenant_id": t, "code": c.code, "street_code": c.street_code, "name": c.name}
                for c in checked.communities
            ],
            ["street_code", "name"],
        ),
        (
            Grid,
            [
                {
                    "tenant_id": t,
                    "code": g.code,
                    "street_code": g.street_code,
                    "community_code": g.community_code,
                    "area_m2": g.area_m2,
                    "geometry": g.geometry,
                    "centroid_lon": g.centroid[0],
                    "centroid_lat": g.centroid[1],
                }
                for g in checked.grids
            ],
            ["street_code", "community_code", "area_m2", "geometry", "centroid_lon", "centroid_lat"],
        ),
    ]
    for model, rows, columns in batches:
        if rows:
            stmt = insert(model)
            stmt = stmt.on_conflict_do_update(
                index_elements=[model.tenant_id, model.code], set_={c: stmt.excluded[c] for c in columns}
            )
            await session.execute(stmt, rows)
    removed: dict[str, int] = {}
    for model, rows, _ in reversed(batches):
        keep = [r["code"] for r in rows]
        try:
            result = await session.execute(delete(model).where(model.tenant_id == t, model.code.not_in(keep)))
        except IntegrityError as exc:
            raise Conflict(
                f"some {model.__tablename__} of {county.name} ({county.code}) that the new geography "
                "drops are still referenced (e.g. by territorial units or cases); keep their codes",
                table=model.__tablename__,
            ) from exc
        removed[model.__tablename__] = int(result.rowcount)  # type: ignore[attr-defined]
    return removed

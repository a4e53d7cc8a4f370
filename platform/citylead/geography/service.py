"""Reading a county's geography, in the caller's transaction (RLS decides what exists for it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.geography.models import Community, Geography, Grid, Street
from tenants.models import Tenant

__all__ = [
    "CommunityRow",
    "GridPage",
    "GridRow",
    "StreetRow",
    "get_geography",
    "list_communities",
    "list_grids",
    "list_streets",
]


@dataclass(frozen=True, slots=True)
class StreetRow:
    code: str
    name: str
    kind: str
    communities: int
    grids: int


@dataclass(frozen=True, slots=True)
class CommunityRow:
    code: str
    street_code: str
    name: str
    grids: int


@dataclass(frozen=True, slots=True)
class GridRow:
    code: str
    street_code: str
    community_code: str
    area_m2: Decimal
    centroid: tuple[float, float]
    geometry: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class GridPage:
    items: list[GridRow]
    total: int
    page: int
    page_size: int


async def get_geography(session: AsyncSession, county: Tenant) -> Geography | None:
    return await session.get(Geography, county.id)


async def list_streets(session: AsyncSession, county: Tenant) -> list[StreetRow]:
    communities = (
        select(func.count())
        .where(Community.tenant_id == Street.tenant_id, Community.street_code == Street.code)
        .scalar_subquery()
    )
    grids = (
        select(func.count())
        .where(Grid.tenant_id == Street.tenant_id, Grid.street_code == Street.code)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Street.code, Street.name, Street.kind, communities, grids)
        .where(Street.tenant_id == county.id)
        .order_by(Street.code)
    )
    return [StreetRow(*row) for row in rows]


async def list_communities(
    session: AsyncSession, county: Tenant, *, street: str | None = None
) -> list[CommunityRow]:
    grids = (
        select(func.count())
        .where(Grid.tenant_id == Community.tenant_id, Grid.community_code == Community.code)
        .scalar_subquery()
    )
    query = select(Community.code, Community.street_code, Community.name, grids).where(
        Community.tenant_id == county.id
    )
    if street is not None:
        query = query.where(Community.street_code == street)
    rows = await session.execute(query.order_by(Community.code))
    return [CommunityRow(*row) for row in rows]


async def list_grids(
    session: AsyncSession,
    county: Tenant,
    *,
    street: str | None = None,
    community: str | None = None,
    geometry: bool = False,
    page: int = 1,
    page_size: int = 100,
) -> GridPage:
    """A page of the county's grids in code order, optionally of one street or community; the
    polygons only when asked for (they are most of the bytes)."""
    where = [Grid.tenant_id == county.id]
    if street is not None:
        where.append(Grid.street_code == street)
    if community is not None:
        where.append(Grid.community_code == community)
    total = await session.scalar(select(func.count()).select_from(Grid).where(*where))
    shape = Grid.geometry if geometry else null()
    rows = await session.execute(
        select(
            Grid.code,
            Grid.street_code,
            Grid.community_code,
            Grid.area_m2,
            Grid.centroid_lon,
            Grid.centroid_lat,
            shape,
        )
        .where(*where)
        .order_by(Grid.code)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    items = [GridRow(code, s, c, area, (lon, lat), geo) for code, s, c, area, lon, lat, geo in rows]
    return GridPage(items, int(total or 0), page, page_size)

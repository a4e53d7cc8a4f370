"""``/api/v1/tenants/{code}/geography``: import a county's streets, communities and unit grids;
list them; locate a point.

Readers are the county and the tiers above it (reads see the subtree). The import is for the
county's administrators or an administrator above it, and is written in the county's own context.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.db import Database
from citylead.geography.importer import ImportReport, do_import_geography, require_division
from citylead.geography.index import Locator, Place
from citylead.geography.service import (
    CommunityRow,
    GridRow,
    StreetRow,
    get_geography,
    list_communities,
    list_grids,
    list_streets,
)
from citylead.identity.policy import require_admin_over
from citylead.identity.principal import Principal
from tenants.context import TenantContext
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.service import access_tenant_by_code

__all__ = ["GeographyController"]

Code = Annotated[str, PathParameter(pattern=r"^[0-9]{6}$", description="GB/T 2260 code, six digits")]
Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Locate = NamedDependency[Locator]
MAX_BODY = 64 * 1024 * 1024


class GeographyOut(msgspec.Struct, kw_only=True):
    tenant: str
    version: int
    streets: int
    communities: int
    grids: int
    imported_at: datetime | None
    imported_by: str | None


class ImportOut(msgspec.Struct, kw_only=True):
    tenant: str
    version: int
    streets: int
    communities: int
    grids: int
    area_km2: float
    removed: dict[str, int]

    @classmethod
    def of(cls, r: ImportReport) -> ImportOut:
        return cls(
            tenant=r.county,
            version=r.version,
            streets=r.streets,
            communities=r.communities,
            grids=r.grids,
            area_km2=r.area_km2,
            removed=r.removed,
        )


class StreetOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    kind: str
    kind_label: str
    communities: int
    grids: int

    @classmethod
    def of(cls, r: StreetRow) -> StreetOut:
        label = {"street": "街道", "town": "镇", "township": "乡"}[r.kind]
        return cls(
            code=r.code, name=r.name, kind=r.kind, kind_label=label, communities=r.communities, grids=r.grids
        )


class CommunityOut(msgspec.Struct, kw_only=True):
    code: str
    street_code: str
    name: str
    grids: int

    @classmethod
    def of(cls, r: CommunityRow) -> CommunityOut:
        return cls(code=r.code, street_code=r.street_code, name=r.name, grids=r.grids)


class GridOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    code: str
    street_code: str
    community_code: str
    area_m2: float
    centroid: tuple[float, float]
    geometry: dict[str, Any] | None = None

    @classmethod
    def of(cls, r: GridRow) -> GridOut:
        return cls(
            code=r.code,
            street_code=r.street_code,
            community_code=r.community_code,
            area_m2=float(r.area_m2),
            centroid=r.centroid,
            geometry=r.geometry,
        )


class StreetListOut(msgspec.Struct, kw_only=True):
    tenant: str
    items: list[StreetOut]
    total: int


class CommunityListOut(msgspec.Struct, kw_only=True):
    tenant: str
    items: list[CommunityOut]
    total: int


class GridListOut(msgspec.Struct, kw_only=True):
    tenant: str
    items: list[GridOut]
    total: int
    page: int
    page_size: int


class PlaceOut(msgspec.Struct, kw_only=True):
    tenant: str
    tenant_name: str
    location: tuple[float, float]
    grid_code: str | None
    community_code: str | None
    community_name: str | None
    street_code: str | None
    street_name: str | None

    @classmethod
    def of(cls, county: Tenant, lon: float, lat: float, p: Place) -> PlaceOut:
        return cls(
            tenant=county.code,
            tenant_name=county.name,
            location=(lon, lat),
            grid_code=p.grid_code,
            community_code=p.community_code,
            community_name=p.community_name,
            street_code=p.street_code,
            street_name=p.street_name,
        )


StreetQ = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{9}$", description="street/town code")]


class GeographyController(Controller):
    path = "/tenants/{code:str}/geography"
    tags = ["geography"]  # noqa: RUF012

    @get("/", summary="The county's geography version and counts")
    async def summary(self, db: Db, principal: Caller, code: Code) -> GeographyOut:
        async with db.transaction(principal.context) as s:
            county = await _county(s, principal, code)
            g = await get_geography(s, county)
        if g is None:
            return GeographyOut(
                tenant=code, version=0, streets=0, communities=0, grids=0, imported_at=None, imported_by=None
            )
        return GeographyOut(
            tenant=code,
            version=g.version,
            streets=g.streets,
            communities=g.communities,
            grids=g.grids,
            imported_at=g.imported_at,
            imported_by=g.imported_by,
        )

    @put(
        "/",
        summary="Replace the county's geography (GeoJSON FeatureCollection)",
        request_max_body_size=MAX_BODY,
    )
    async def replace(
        self, db: Db, principal: Caller, locator: Locate, code: Code, data: JSONBody[dict[str, Any]]
    ) -> ImportOut:
        async with db.transaction(principal.context) as s:
            target = (await access_tenant_by_code(s, principal.context, code)).tenant
        require_admin_over(principal, target)
        require_division(target)
        # Written in the county's own context: RLS lets a tenant write only its own rows.
        async with db.transaction(TenantContext(target.path)) as s:
            report = await do_import_geography(
                s, target, data, acting_user=principal.username, locator=locator
            )
        return ImportOut.of(report)

    @get("/streets", summary="Streets and towns, with their numbers of communities and grids")
    async def streets(self, db: Db, principal: Caller, code: Code) -> StreetListOut:
        async with db.transaction(principal.context) as s:
            rows = await list_streets(s, await _county(s, principal, code))
        return StreetListOut(tenant=code, items=[StreetOut.of(r) for r in rows], total=len(rows))

    @get("/communities", summary="Communities and villages, optionally of one street")
    async def communities(
        self, db: Db, principal: Caller, code: Code, street: StreetQ = None
    ) -> CommunityListOut:
        async with db.transaction(principal.context) as s:
            rows = await list_communities(s, await _county(s, principal, code), street=street)
        return CommunityListOut(tenant=code, items=[CommunityOut.of(r) for r in rows], total=len(rows))

    @get("/grids", summary="Unit grids, paginated; polygons only with geometry=true")
    async def grids(
        self,
        db: Db,
        principal: Caller,
        code: Code,
        street: StreetQ = None,
        community: Annotated[
            str | None, QueryParameter(pattern=r"^[0-9]{12}$", description="community/village code")
        ] = None,
        geometry: Annotated[bool, QueryParameter(description="include the GeoJSON polygons")] = False,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> GridListOut:
        async with db.transaction(principal.context) as s:
            county = await _county(s, principal, code)
            result = await list_grids(
                s,
                county,
                street=street,
                community=community,
                geometry=geometry,
                page=page,
                page_size=page_size,
            )
        return GridListOut(
            tenant=code,
            items=[GridOut.of(r) for r in result.items],
            total=result.total,
            page=result.page,
            page_size=result.page_size,
        )

    @get("/locate", summary="The grid, community and street at a WGS84 point")
    async def locate(
        self,
        db: Db,
        principal: Caller,
        locator: Locate,
        code: Code,
        lon: Annotated[float, QueryParameter(description="WGS84 longitude, degrees")],
        lat: Annotated[float, QueryParameter(description="WGS84 latitude, degrees")],
    ) -> PlaceOut:
        """For a city or province ``code``, first the division under it that contains the point."""
        async with db.transaction(principal.context) as s:
            scope = (await access_tenant_by_code(s, principal.context, code)).tenant
            county = scope if scope.level.is_division else await locator.county_of(s, scope, lon, lat)
            if county is None:
                raise InvalidInput(
                    f"the location is outside {scope.name} ({scope.code})",
                    errors=[
                        FieldProblem(
                            "location", f"outside the boundary of {scope.name} ({scope.code})", [lon, lat]
                        )
                    ],
                )
            place = await locator.place(s, county, lon, lat)
        return PlaceOut.of(county, lon, lat, place)


async def _county(s: AsyncSession, principal: Principal, code: str) -> Tenant:
    county = (await access_tenant_by_code(s, principal.context, code)).tenant
    require_division(county)
    return county

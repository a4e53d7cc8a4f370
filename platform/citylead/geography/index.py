"""The in-process spatial index (空间索引): which grid, community and street a point lies in.

One :class:`CountyIndex` per county (an STRtree over its grids, and its boundary widened by the
50 m tolerance), built lazily from the database on first use and cached in the process by the
:class:`Locator` (one per process, held by the app; one event loop, so no locks).

Staleness: an import in this process installs the new index when its transaction commits.
Another process notices an import through ``geographies.version``: a cached index is trusted
for ``recheck_seconds`` (default 5 s) after its version was last read, then the version is read
again (one primary-key lookup) and the index rebuilt if it changed. So a point may be placed on
the previous geography for at most ``recheck_seconds`` after another process's import commits.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape as to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from citylead.geography._geo import BOUNDARY_TOLERANCE_M, Projection, county_shape
from citylead.geography.models import Community, Geography, Grid, Street
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant, TenantLevel

__all__ = ["CountyIndex", "GridEntry", "Locator", "Place", "check_location"]

DIVISIONS = [level for level in TenantLevel if level.is_division]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a point lies in a county: None codes when inside the county but in no grid."""

    grid_code: str | None
    community_code: str | None
    street_code: str | None
    street_name: str | None
    community_name: str | None


NOWHERE = Place(None, None, None, None, None)


@dataclass(frozen=True, slots=True)
class GridEntry:
    code: str
    street_code: str
    community_code: str
    shape: BaseGeometry  # lon/lat


def check_location(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            "the location is not a WGS84 longitude/latitude",
            errors=[
                FieldProblem(
                    "location", "longitude within -180…180 and latitude within -90…90 degrees", [lon, lat]
                )
            ],
        )


def widened(boundary: BaseGeometry) -> BaseGeometry:
    """The boundary grown by the tolerance (in metres, through the county's projection)."""
    proj = Projection.around(boundary)
    allowed: BaseGeometry = proj.to_lonlat(proj.to_metres(boundary).buffer(BOUNDARY_TOLERANCE_M))
    shapely.prepare(allowed)
    return allowed


class CountyIndex:
    """One county's grids in an STRtree, and its boundary with the tolerance. Immutable."""

    def __init__(
        self,
        *,
        boundary: dict[str, Any],
        grids: Sequence[GridEntry],
        street_names: dict[str, str],
        community_names: dict[str, str],
        version: int,
        tenant_version: int,
    ) -> None:
        self.version = version
        self.tenant_version = tenant_version
        self.allowed = widened(county_shape(boundary))
        ordered = sorted(grids, key=lambda g: g.code)  # the smallest code wins on a shared edge
        self._places: list[Place] = [
            Place(
                g.code,
                g.community_code,
                g.street_code,
                street_names.get(g.street_code),
                community_names.get(g.community_code),
            )
            for g in ordered
        ]
        self._tree = shapely.STRtree(np.array([g.shape for g in ordered], dtype=object))

    def __len__(self) -> int:
        return len(self._places)

    def inside(self, lon: float, lat: float) -> bool:
        """Within the county boundary (plus the tolerance)."""
        return bool(shapely.contains_xy(self.allowed, lon, lat))

    def grid_at(self, lon: float, lat: float) -> Place:
        """The grid containing the point (boundary included), ignoring the county boundary."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self._places[int(hits.min())] if len(hits) else NOWHERE


async def load_index(session: AsyncSession, county: Tenant, version: int) -> CountyIndex:
    """Build a county's index from the database, in the caller's transaction (RLS applies)."""
    boundary = await session.scalar(select(Tenant.boundary).where(Tenant.id == county.id))
    if boundary is None:
        raise InvalidInput(f"{county.name} ({county.code}) has no boundary in the registry")
    where = Grid.tenant_id == county.id
    rows = (
        await session.execute(
            select(Grid.code, Grid.street_code, Grid.community_code, Grid.geometry).where(where)
        )
    ).all()
    streets = await session.execute(select(Street.code, Street.name).where(Street.tenant_id == county.id))
    communities = await session.execute(
        select(Community.code, Community.name).where(Community.tenant_id == county.id)
    )
    return CountyIndex(
        boundary=boundary,
        grids=[GridEntry(code, s, c, to_shape(g)) for code, s, c, g in rows],
        street_names={row[0]: row[1] for row in streets},
        community_names={row[0]: row[1] for row in communities},
        version=version,
        tenant_version=county.version,
    )


@dataclass
class _Cached:
    index: CountyIndex
    checked: float


@dataclass
class _Scope:
    signature: frozenset[tuple[uuid.UUID, int]]
    ids: list[uuid.UUID]
    strict: Any  # array of boundaries
    allowed: Any  # array of widened boundaries
    tree: shapely.STRtree
    checked: float


class Locator:
    """Places points in grids, and finds a scope's county for a point. One per process."""

    def __init__(self, *, recheck_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._counties: dict[uuid.UUID, _Cached] = {}
        self._scopes: dict[uuid.UUID, _Scope] = {}

    async def place(self, session: AsyncSession, county: Tenant, lon: float, lat: float) -> Place:
        """The grid, community and street at (lon, lat) in ``county``; InvalidInput naming
        ``location`` if the point is outside the county (beyond the tolerance)."""
        check_location(lon, lat)
        index = await self.index(session, county)
        if not index.inside(lon, lat):
            raise InvalidInput(
                f"the location is outside {county.name} ({county.code})",
                errors=[
                    FieldProblem(
                        "location",
                        f"outside the county boundary of {county.name} ({county.code})",
                        [lon, lat],
                    )
                ],
            )
        return index.grid_at(lon, lat)

    async def index(self, session: AsyncSession, county: Tenant) -> CountyIndex:
        """The county's index: cached, re-validated against ``geographies.version`` at most every
        ``recheck_seconds``, rebuilt when the version or the county's registry row changed."""
        now = self._clock()
        cached = self._counties.get(county.id)
        fresh = cached is not None and cached.index.tenant_version == county.version
        if cached is not None and fresh and now - cached.checked < self.recheck_seconds:
            return cached.index
        version = await session.scalar(select(Geography.version).where(Geography.tenant_id == county.id)) or 0
        if cached is not None and fresh and cached.index.version == version:
            cached.checked = now
            return cached.index
        index = await load_index(session, county, version)
        self.install(county.id, index)
        return index

    def install(self, tenant_id: uuid.UUID, index: CountyIndex) -> None:
        """Cache ``index`` unless a newer one is already cached."""
        cached = self._counties.get(tenant_id)
        if cached is None or index.version >= cached.index.version:
            self._counties[tenant_id] = _Cached(index, self._clock())

    def install_on_commit(self, session: AsyncSession, tenant_id: uuid.UUID, index: CountyIndex) -> None:
        """Install ``index`` when the session's current transaction commits; never if it rolls back."""
        rolled_back = False

        def on_rollback(_session: Session) -> None:
            nonlocal rolled_back
            rolled_back = True

        def on_commit(_session: Session) -> None:
            if not rolled_back:
                self.install(tenant_id, index)

        event.listen(session.sync_session, "after_rollback", on_rollback, once=True)
        event.listen(session.sync_session, "after_commit", on_commit, once=True)

    def invalidate(self, tenant_id: uuid.UUID) -> None:
        """Forget a county's index (and a scope's county lookup): the next use rebuilds it."""
        self._counties.pop(tenant_id, None)
        self._scopes.pop(tenant_id, None)

    async def county_of(self, session: AsyncSession, scope: Tenant, lon: float, lat: float) -> Tenant | None:
        """The county-level division under ``scope`` (or ``scope`` itself, if it is one) whose
        boundary contains the point, within the tolerance; None if none does. ``scope`` must lie
        in the session's visible subtree (the caller found it through ``access_tenant_by_code``)."""
        check_location(lon, lat)
        if scope.level.is_division:
            return scope if (await self.index(session, scope)).inside(lon, lat) else None
        divisions = await self._divisions(session, scope)
        candidates = divisions.tree.query(shapely.Point(lon, lat))
        strict = [k for k in sorted(candidates) if shapely.intersects_xy(divisions.strict[k], lon, lat)]
        near = strict or [
            k for k in sorted(candidates) if shapely.contains_xy(divisions.allowed[k], lon, lat)
        ]
        if not near:
            return None
        point = shapely.Point(lon, lat)
        best = min(near, key=lambda k: shapely.distance(divisions.strict[k], point))
        return await session.get(Tenant, divisions.ids[best])

    async def _divisions(self, session: AsyncSession, scope: Tenant) -> _Scope:
        now = self._clock()
        cached = self._scopes.get(scope.id)
        if cached is not None and now - cached.checked < self.recheck_seconds:
            return cached
        under = (Tenant.path.op("^@")(scope.path), Tenant.level.in_(DIVISIONS))
        rows = (await session.execute(select(Tenant.id, Tenant.version).where(*under))).all()
        signature = frozenset((i, v) for i, v in rows)
        if cached is not None and cached.signature == signature:
            cached.checked = now
            return cached
        shapes = (await session.execute(select(Tenant.id, Tenant.boundary).where(*under))).all()
        with_boundary = [(i, county_shape(b)) for i, b in shapes if b is not None]
        strict = np.array([s for _, s in with_boundary], dtype=object)
        allowed = np.array([widened(s) for s in strict], dtype=object)
        shapely.prepare(strict)
        entry = _Scope(
            signature, [i for i, _ in with_boundary], strict, allowed, shapely.STRtree(allowed), now
        )
        self._scopes[scope.id] = entry
        return entry

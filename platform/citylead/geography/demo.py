"""Demo geography: generated streets, communities and unit grids for a county's built-up core.

A square of 12×12 cells of 420 m (≈ 0.18 km² each, about the seed district's 0.17 km² average)
centred on the boundary's representative point (inside the county by construction), clipped to
the county boundary; a cell keeps its place only if at least half of it is inside. If fewer than
100 cells remain (a narrow county) the square grows, up to 16×16. Streets are 4 bands of columns
(west → east), communities 3 bands of rows within each street (north → south), so 4 streets of
3 communities of ~12 grids; empty bands are dropped. Grid codes are the GB/T 30428.1 15-digit
form, numbered west→east, north→south within a community. Names are plausible, not real.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import undefer

from citylead.db import Database
from citylead.geography._geo import Projection, county_shape, to_geojson
from citylead.geography.importer import do_import_geography, require_division
from citylead.geography.models import Geography
from tenants.context import TenantContext
from tenants.errors import InvalidInput, NotFound
from tenants.models import Tenant

__all__ = ["CELL_M", "demo_geography", "seed_demo_geography"]

CELL_M = 420.0
STREETS, COMMUNITIES_PER_STREET = 4, 3
MIN_CELLS, SIDES = 100, (12, 13, 14, 15, 16)
KEEP = 0.5  # the part of a cell that must lie inside the county
ACTOR = "citylead:demo"
STREET_NAMES = (
    "人民",
    "解放",
    "新华",
    "和平",
    "朝阳",
    "东风",
    "青年",
    "建设",
    "文化",
    "迎宾",
    "长安",
    "兴隆",
)
COMMUNITY_NAMES = (
    "花园", "光明", "幸福", "桃园", "红星", "阳光", "友谊", "新村",
    "锦绣", "翠竹", "枫林", "滨河", "育才", "春晖", "金桥", "南苑",
)  # fmt: skip


def _cells(county_m: BaseGeometry, side: int) -> list[tuple[int, int, BaseGeometry]]:
    """(row from the north, column from the west, clipped cell) for the cells kept."""
    half = side * CELL_M / 2
    rows, cols = np.divmod(np.arange(side * side), side)
    boxes = shapely.box(
        -half + cols * CELL_M, half - (rows + 1) * CELL_M, -half + (cols + 1) * CELL_M, half - rows * CELL_M
    )
    clipped = shapely.intersection(boxes, county_m)
    kept = []
    for r, c, cell in zip(rows, cols, clipped, strict=True):
        cell = _polygonal(cell)
        if cell is not None and cell.area >= KEEP * CELL_M * CELL_M:
            kept.append((int(r), int(c), cell))
    return kept


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if parts else None


def demo_geography(county: Tenant) -> dict[str, Any]:
    """The demo GeoJSON FeatureCollection for ``county`` (its boundary must be loaded)."""
    require_division(county)
    if county.boundary is None:
        raise InvalidInput(f"{county.name} ({county.code}) has no boundary in the registry")
    boundary = county_shape(county.boundary)
    centre = boundary.representative_point()
    proj = Projection(centre.x, centre.y)
    county_m = proj.to_metres(boundary)
    for side in SIDES:
        cells = _cells(county_m, side)
        if len(cells) >= MIN_CELLS:
            break
    band_cols, band_rows = math.ceil(side / STREETS), math.ceil(side / COMMUNITIES_PER_STREET)
    groups: dict[tuple[int, int], list[tuple[int, int, BaseGeometry]]] = {}
    for r, c, cell in cells:
        groups.setdefault((c // band_cols, r // band_rows), []).append((r, c, cell))
    seed = int(county.code)
    streets: list[dict[str, Any]] = []
    communities: list[dict[str, Any]] = []
    grids: list[dict[str, Any]] = []
    for i, band in enumerate(sorted({s for s, _ in groups})):
        street = f"{county.code}{i + 1:03d}"
        streets.append(_feature("street", street, f"{STREET_NAMES[(seed + i) % len(STREET_NAMES)]}街道"))
        for j, row_band in enumerate(sorted(b for s, b in groups if s == band)):
            community = f"{street}{j + 1:03d}"
            name = COMMUNITY_NAMES[(seed + COMMUNITIES_PER_STREET * i + j) % len(COMMUNITY_NAMES)]
            communities.append(_feature("community", community, f"{name}社区", street_code=street))
            members = sorted(groups[(band, row_band)], key=lambda m: (m[0], m[1]))
            shapes = proj.to_lonlat(np.array([m[2] for m in members], dtype=object))
            for k, shape in enumerate(shapes):
                grids.append(
                    _feature(
                        "grid",
                        f"{community}{k + 1:03d}",
                        None,
                        street_code=street,
                        community_code=community,
                        geometry=to_geojson(shape),
                    )
                )
    return {"type": "FeatureCollection", "features": streets + communities + grids}


def _feature(
    layer: str, code: str, name: str | None, *, geometry: dict[str, Any] | None = None, **parents: str
) -> dict[str, Any]:
    props: dict[str, Any] = {"layer": layer, "code": code, **parents}
    if name is not None:
        props["name"] = name
    return {"type": "Feature", "properties": props, "geometry": geometry}


async def seed_demo_geography(owner: Database, county_codes: list[str]) -> None:
    """Import the demo geography of each county that has none yet (idempotent): one transaction
    per county in its own context, through the same checks as any import."""
    async with owner.transaction(None) as s:
        counties = list(
            await s.scalars(
                select(Tenant).options(undefer(Tenant.boundary)).where(Tenant.code.in_(county_codes))
            )
        )
        done = set(await s.scalars(select(Geography.tenant_id)))
    missing = sorted(set(county_codes) - {t.code for t in counties})
    if missing:
        raise NotFound(f"no tenant {', '.join(missing)}")
    for county in sorted(counties, key=lambda t: t.code):
        if county.id in done:
            continue
        collection = demo_geography(county)
        async with owner.transaction(TenantContext(county.path)) as s:
            await do_import_geography(s, county, collection, acting_user=ACTOR)

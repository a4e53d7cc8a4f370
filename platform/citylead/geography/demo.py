"""Demo geography: generated streets, communities and unit grids for a county's built-up core.

A square of 12×12 cells of 420 m (≈ 0.18 km² each, about the seed district's 0.17 km² average)
centred on the boundary's representative point (inside the county by construction), clipped to
the county boundary; a cell keeps its place only if at least half of it is inside. If fewer than
100 cells remain (a narrow county) the square grows, up to 16×16. Streets are 4 bands of columns
(west → east), communities 3 bands of rows within each street (north → south), so 4 streets of
3 communities of ~12 grids; empty bands are dropped. Grid codes are the GB/T 30428.1 15-digit
form, numbered west→east, north→south within a community. Names are plausible, not real.

The cells (``square_cells``), the projection (``county_metres``) and the FeatureCollection of a
layout of streets, communities and cells (``geography_collection``) are shared with the onboarding
samples (``provisioning.samples``), which choose their own cell size and layout.
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

__all__ = [
    "CELL_M",
    "KEEP",
    "Layout",
    "county_metres",
    "demo_geography",
    "geography_collection",
    "seed_demo_geography",
    "square_cells",
]

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


Layout = list[list[list[BaseGeometry]]]  # streets → communities → grid cells in metres, in code order
SUFFIXES = ("", "东", "西", "南", "北", "中")  # tell apart names reused when a county has many streets


def square_cells(
    county_m: BaseGeometry, side: int, cell_m: float = CELL_M
) -> list[tuple[int, int, BaseGeometry]]:
    """(row from the north, column from the west, clipped cell) of a square of ``side`` × ``side``
    cells of ``cell_m`` metres centred on the projection's origin, for the cells that keep at least
    ``KEEP`` of their area inside the county."""
    half = side * cell_m / 2
    rows, cols = np.divmod(np.arange(side * side), side)
    boxes = shapely.box(
        -half + cols * cell_m, half - (rows + 1) * cell_m, -half + (cols + 1) * cell_m, half - rows * cell_m
    )
    shapely.prepare(county_m)  # a cache inside the geometry; the geometry itself is unchanged
    near = shapely.intersects(boxes, county_m)  # a cheap filter: the other cells would clip to nothing
    rows, cols, boxes = rows[near], cols[near], boxes[near]
    clipped = shapely.intersection(boxes, county_m)
    kept = []
    for r, c, cell in zip(rows, cols, clipped, strict=True):
        cell = _polygonal(cell)
        if cell is not None and cell.area >= KEEP * cell_m * cell_m:
            kept.append((int(r), int(c), cell))
    return kept


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if parts else None


def county_metres(county: Tenant) -> tuple[Projection, BaseGeometry]:
    """The county boundary in metres, in an equal-area projection centred on its representative
    point (inside the county by construction); the boundary must be loaded."""
    require_division(county)
    if county.boundary is None:
        raise InvalidInput(f"{county.name} ({county.code}) has no boundary in the registry")
    boundary = county_shape(county.boundary)
    centre = boundary.representative_point()
    proj = Projection(centre.x, centre.y)
    return proj, proj.to_metres(boundary)


def demo_geography(county: Tenant) -> dict[str, Any]:
    """The demo GeoJSON FeatureCollection for ``county`` (its boundary must be loaded)."""
    proj, county_m = county_metres(county)
    for side in SIDES:
        cells = square_cells(county_m, side)
        if len(cells) >= MIN_CELLS:
            break
    band_cols, band_rows = math.ceil(side / STREETS), math.ceil(side / COMMUNITIES_PER_STREET)
    groups: dict[tuple[int, int], list[tuple[int, int, BaseGeometry]]] = {}
    for r, c, cell in cells:
        groups.setdefault((c // band_cols, r // band_rows), []).append((r, c, cell))
    layout = [
        [
            [m[2] for m in sorted(groups[(band, row_band)], key=lambda m: (m[0], m[1]))]
            for row_band in sorted(b for s, b in groups if s == band)
        ]
        for band in sorted({s for s, _ in groups})
    ]
    return geography_collection(county.code, proj, layout)


def geography_collection(
    county_code: str, proj: Projection, layout: Layout, *, stride: int = COMMUNITIES_PER_STREET
) -> dict[str, Any]:
    """The FeatureCollection of a layout: street ``i`` is ``{county}{i+1:03d}`` (街道), community
    ``j`` of it ``{street}{j+1:03d}``, grid ``k`` of that ``{community}{k+1:03d}`` (GB/T 30428.1).
    Names are plausible and deterministic; community ``j`` of street ``i`` takes name number
    ``stride * i + j``."""
    seed = int(county_code)
    streets: list[dict[str, Any]] = []
    communities: list[dict[str, Any]] = []
    grids: list[dict[str, Any]] = []
    for i, street_cells in enumerate(layout):
        street = f"{county_code}{i + 1:03d}"
        streets.append(_feature("street", street, f"{_name(STREET_NAMES, seed, i)}街道"))
        for j, members in enumerate(street_cells):
            community = f"{street}{j + 1:03d}"
            name = _name(COMMUNITY_NAMES, seed, stride * i + j)
            communities.append(_feature("community", community, f"{name}社区", street_code=street))
            shapes = proj.to_lonlat(np.array(members, dtype=object))
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


def _name(names: tuple[str, ...], seed: int, n: int) -> str:
    """Name number ``n``: the list in turn from ``seed``, with a suffix once it has gone round."""
    turn = n // len(names)
    suffix = SUFFIXES[turn] if turn < len(SUFFIXES) else str(turn)
    return names[(seed + n) % len(names)] + suffix


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

"""What placing a point costs (geography), against baselines in the same run.

1. Point → grid with 5,000 generated grids (300 m squares in 沭阳县 321322): the STRtree index
   against a brute-force vectorised ``contains`` over all 5,000 polygons and a plain dict lookup;
   µs per lookup, median over 20,000 random points (each timed alone). The index answers are
   checked against the brute force.
2. Through the database: a transaction with a warm ``Locator.place`` against one with ``SELECT 1``;
   the cold index build from the database; the import of the 5,000 grids.
3. Seeding the demo geography of 常州市's six divisions.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import undefer

from citylead.db import Database
from citylead.geography._geo import Projection, county_shape, to_geojson
from citylead.geography.demo import demo_geography, seed_demo_geography
from citylead.geography.importer import do_import_geography
from citylead.geography.index import CountyIndex, GridEntry, Locator, load_index
from citylead.geography.models import Geography
from citylead.geography.validation import check_geography
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.benchmarks.conftest import measure, report

pytestmark = pytest.mark.benchmark

COUNTY = "321322"  # 宿迁市沭阳县, 2,304 km²: room for 5,000 whole 300 m cells
CHANGZHOU = ["320402", "320404", "320411", "320412", "320413", "320481"]
N_GRIDS, CELL_M, SIDE = 5_000, 300.0, 120
N_POINTS, N_CHECK, N_DB = 20_000, 2_000, 300


def _collection(county: Tenant) -> dict[str, Any]:
    """5,000 whole cells nearest the representative point; 10 streets × 10 communities × 50 grids."""
    assert county.boundary is not None
    shape = county_shape(county.boundary)
    centre = shape.representative_point()
    proj = Projection(centre.x, centre.y)
    metres = proj.to_metres(shape)
    shapely.prepare(metres)
    half = SIDE * CELL_M / 2
    rows, cols = np.divmod(np.arange(SIDE * SIDE), SIDE)
    boxes = shapely.box(
        -half + cols * CELL_M, half - (rows + 1) * CELL_M, -half + (cols + 1) * CELL_M, half - rows * CELL_M
    )
    inside = np.flatnonzero(shapely.contains(metres, boxes))
    distance = np.hypot(*shapely.get_coordinates(shapely.centroid(boxes[inside])).T)
    take = np.sort(inside[np.argsort(distance)[:N_GRIDS]])
    assert len(take) == N_GRIDS
    cells = proj.to_lonlat(boxes[take])
    features: list[dict[str, Any]] = []
    for s in range(10):
        street = f"{county.code}{s + 1:03d}"
        features.append(
            {
                "type": "Feature",
                "properties": {"layer": "street", "code": street, "name": f"第{s + 1}街道"},
                "geometry": None,
            }
        )
        for c in range(10):
            props = {"layer": "community", "code": f"{street}{c + 1:03d}", "name": f"第{c + 1}社区"}
            features.append({"type": "Feature", "properties": props, "geometry": None})
    for k, cell in enumerate(cells):
        community = f"{county.code}{k // 500 + 1:03d}{k % 500 // 50 + 1:03d}"
        props = {"layer": "grid", "code": f"{community}{k % 50 + 1:03d}"}
        features.append({"type": "Feature", "properties": props, "geometry": to_geojson(cell)})
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture(scope="module")
async def county(owner_db: Database, registry: dict[str, Tenant]) -> Tenant:
    async with owner_db.transaction(None) as s:
        found = await s.scalar(select(Tenant).options(undefer(Tenant.boundary)).where(Tenant.code == COUNTY))
    assert found is not None
    return found


def _per_call_us(
    fn: Callable[[float, float], object], points: list[tuple[float, float]]
) -> tuple[float, float]:
    """Median and p95 in µs, each call timed alone."""
    for lon, lat in points[:500]:
        fn(lon, lat)
    samples = []
    for lon, lat in points:
        t0 = time.perf_counter_ns()
        fn(lon, lat)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def test_point_to_grid_lookup(county: Tenant, app_db: Database) -> None:
    doc = _collection(county)
    assert county.boundary is not None
    t0 = time.perf_counter()
    checked = check_geography(doc, county_code=COUNTY, county_name=county.name, boundary=county.boundary)
    check_s = time.perf_counter() - t0
    entries = [GridEntry(g.code, g.street_code, g.community_code, g.shape) for g in checked.grids]
    t0 = time.perf_counter()
    index = CountyIndex(
        boundary=county.boundary,
        grids=entries,
        street_names={},
        community_names={},
        version=1,
        tenant_version=1,
    )
    build_ms = (time.perf_counter() - t0) * 1000
    assert len(index) == N_GRIDS

    shapes = np.array([e.shape for e in sorted(entries, key=lambda e: e.code)], dtype=object)
    codes = [e.code for e in sorted(entries, key=lambda e: e.code)]
    shapely.prepare(shapes)
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    rng = random.Random(20261122)
    points = [(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(N_POINTS)]

    def brute(lon: float, lat: float) -> str | None:
        hits = np.flatnonzero(shapely.intersects_xy(shapes, lon, lat))
        return codes[hits[0]] if len(hits) else None

    for lon, lat in points[:N_CHECK]:
        assert index.grid_at(lon, lat).grid_code == brute(lon, lat)
    in_grid = sum(index.grid_at(lon, lat).grid_code is not None for lon, lat in points) / N_POINTS

    by_code = {c: i for i, c in enumerate(codes)}
    keys = [codes[rng.randrange(N_GRIDS)] for _ in range(N_POINTS)]
    key_iter = iter(keys * 2)

    def dict_lookup(lon: float, lat: float) -> object:
        return by_code[next(key_iter)]

    def place_in_memory(lon: float, lat: float) -> object:
        return index.inside(lon, lat) and index.grid_at(lon, lat)

    rows = [
        (
            "brute force: `shapely.intersects_xy` over all 5,000 polygons (vectorised)",
            *_per_call_us(brute, points),
        ),
        ("plain dict lookup of a grid code", *_per_call_us(dict_lookup, points)),
        (
            "`CountyIndex.grid_at` (STRtree query, `intersects` predicate)",
            *_per_call_us(index.grid_at, points),
        ),
        (
            "county boundary test + `grid_at` (what `place` does in memory)",
            *_per_call_us(place_in_memory, points),
        ),
    ]
    base = rows[0][1]
    print(
        f"\n### Point → grid, {N_GRIDS:,} grids (300 m squares in 沭阳县 {COUNTY})\n\n"
        f"{N_POINTS:,} random points in the grids' bounding box ({in_grid:.0%} fall in a grid), each call "
        f"timed alone; the first {N_CHECK:,} answers of the index equal the brute force's.\n\n"
        "| what | n | median µs | p95 µs | ratio to baseline |\n|---|---|---|---|---|"
    )
    for i, (what, median, p95) in enumerate(rows):
        ratio = "1.00× (baseline)" if i == 0 else f"{median / base:.3f}×"
        print(f"| {what} | {N_POINTS} | {median:.2f} | {p95:.2f} | {ratio} |")
    print(
        f"\nChecking the 5,000-grid collection: {check_s:.2f} s; "
        f"building the index from it: {build_ms:.0f} ms."
    )

    # Through the database: import, cold build, warm place inside a transaction.
    context = TenantContext(county.path)
    t0 = time.perf_counter()
    async with app_db.transaction(context) as s:
        first = await do_import_geography(s, county, doc, acting_user="bench")
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    async with app_db.transaction(context) as s:
        await do_import_geography(s, county, doc, acting_user="bench")
    reimport_s = time.perf_counter() - t0
    cold = []
    for _ in range(5):
        t0 = time.perf_counter()
        async with app_db.transaction(context) as s:
            await load_index(s, county, first.version)
        cold.append((time.perf_counter() - t0) * 1000)

    locator = Locator()
    rechecking = Locator(recheck_seconds=0)
    point_iter = iter(points * 10)

    async def select_1() -> None:
        async with app_db.transaction(context) as s:
            await s.execute(text("SELECT 1"))

    async def place_warm() -> None:
        async with app_db.transaction(context) as s:
            await s.execute(text("SELECT 1"))
            await locator.place(s, county, *next(point_iter))

    async def place_recheck() -> None:
        async with app_db.transaction(context) as s:
            await s.execute(text("SELECT 1"))
            await rechecking.place(s, county, *next(point_iter))

    f_base = await measure("transaction + `SELECT 1`, county context", N_DB, select_1)
    f_warm = await measure("… + `Locator.place` (index cached, version trusted)", N_DB, place_warm)
    f_check = await measure("… + `Locator.place`, version re-read every call", N_DB, place_recheck)
    report(f"Locating a point through the database ({N_GRIDS:,} grids)", f_base, f_warm, f_check)
    print(
        f"\nImport of the {N_GRIDS:,} grids (check, write, audit; one transaction): first {import_s:.2f} s, "
        f"re-import of the same {reimport_s:.2f} s. Cold index build from the database "
        f"(`load_index`, median of 5): {statistics.median(cold):.0f} ms."
    )
    assert rows[2][1] < base, "the index must beat the brute force"


async def test_seeding_the_changzhou_demo(
    owner_db: Database, app_db: Database, registry: dict[str, Tenant]
) -> None:
    async with owner_db.transaction(None) as s:
        counties = list(
            await s.scalars(
                select(Tenant).options(undefer(Tenant.boundary)).where(Tenant.code.in_(CHANGZHOU))
            )
        )
        fresh = len(counties) - len(
            list(
                await s.scalars(
                    select(Geography.tenant_id).where(Geography.tenant_id.in_([t.id for t in counties]))
                )
            )
        )
    t0 = time.perf_counter()
    await seed_demo_geography(owner_db, CHANGZHOU)
    seed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    await seed_demo_geography(owner_db, CHANGZHOU)
    again_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    grids = 0
    for county in counties:
        doc = demo_geography(county)
        async with app_db.transaction(TenantContext(county.path)) as s:
            grids += (await do_import_geography(s, county, doc, acting_user="bench")).grids
    work_s = time.perf_counter() - t0
    print(
        f"\n### Demo geography of 常州市's six divisions\n\n"
        "| what | seconds |\n|---|---|\n"
        f"| `seed_demo_geography` ({fresh} of 6 had no geography yet) | {seed_s:.2f} |\n"
        f"| `seed_demo_geography` again (nothing to do) | {again_s:.3f} |\n"
        f"| generate + check + write all six ({grids} grids; re-import) | {work_s:.2f} |"
    )
    assert work_s < 10

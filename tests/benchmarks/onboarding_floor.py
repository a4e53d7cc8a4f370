"""What the onboarding benchmarks compare with, and where the time goes.

- The floor: a county's sample grids and components moved into PostgreSQL with nothing else —
  asyncpg ``COPY`` (binary) into unlogged scratch tables shaped like ``grids`` and ``components``
  (no indexes, no row-level security, no checks), on the same embedded server.
- A cProfile of the inventory import (``do_import_components``) in this process, as the
  application role in the county's own context, rolled back.
"""

from __future__ import annotations

import cProfile
import csv
import io
import json
import pstats
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from shapely.geometry import shape
from sqlalchemy import delete, event, select

from citylead.db import Database
from citylead.geography._geo import Projection
from citylead.identity.passwords import hash_password
from citylead.units._formats import COLUMNS, read_inventory
from citylead.units.inventory import _upsert, do_import_components, validate_rows
from citylead.units.models import Component, ComponentState
from provisioning.inputs import OnboardRequest
from provisioning.service import dry_run
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.resolver import Resolver

COMPONENT_COLUMNS = ("tenant_id", "edition", *COLUMNS)
GRID_COLUMNS = (
    "tenant_id",
    "code",
    "street_code",
    "community_code",
    "area_m2",
    "geometry",
    "centroid_lon",
    "centroid_lat",
)
SCRATCH = {"components": "bench_floor_components", "grids": "bench_floor_grids"}
OURS = ("/citylead/", "/tenants/", "/provisioning/")


def component_records(path: Path, tenant_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """The inventory CSV as typed rows of ``COMPONENT_COLUMNS`` (what the import would write)."""
    typed: dict[str, Any] = {
        "lon": float,
        "lat": float,
        "installed_on": date.fromisoformat,
        "changed_on": date.fromisoformat,
        "state": lambda v: ComponentState.parse(v).value,
    }
    out = []
    for row in csv.DictReader(io.StringIO(path.read_text("utf-8"))):
        values = {k: (typed[k](v) if k in typed else v) if v else None for k, v in row.items()}
        out.append((tenant_id, "2026", *(values[c] for c in COLUMNS)))
    return out


def grid_records(path: Path, tenant_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """The grid features as rows of ``GRID_COLUMNS`` (area and centroid computed here)."""
    out = []
    for feature in json.loads(path.read_text("utf-8"))["features"]:
        p = feature["properties"]
        if p["layer"] != "grid":
            continue
        polygon = shape(feature["geometry"])
        c = polygon.centroid
        area = Projection(c.x, c.y).to_metres(polygon).area
        geometry = json.dumps(feature["geometry"])
        out.append(
            (tenant_id, p["code"], p["street_code"], p["community_code"], Decimal(f"{area:.1f}"), geometry,
             c.x, c.y)
        )  # fmt: skip
    return out


async def copy_floor(
    conn: asyncpg.Connection, components: list[tuple[Any, ...]], grids: list[tuple[Any, ...]]
) -> float:
    """Seconds to COPY ``grids`` and ``components`` into empty unlogged scratch tables in one
    transaction (commit included); the tables are made before and dropped after, untimed."""
    for table, scratch in SCRATCH.items():
        await conn.execute(f"DROP TABLE IF EXISTS {scratch}")
        await conn.execute(f"CREATE UNLOGGED TABLE {scratch} (LIKE {table} INCLUDING DEFAULTS)")
    try:
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(SCRATCH["grids"], records=grids, columns=list(GRID_COLUMNS))
            await conn.copy_records_to_table(
                SCRATCH["components"], records=components, columns=list(COMPONENT_COLUMNS)
            )
        seconds = time.perf_counter() - t0
        copied = await conn.fetchval(f"SELECT count(*) FROM {SCRATCH['components']}")
        assert copied == len(components)
        return seconds
    finally:
        for scratch in SCRATCH.values():
            await conn.execute(f"DROP TABLE IF EXISTS {scratch}")


async def check_seconds(app_url: str, requests: list[OnboardRequest], *, repeat: int = 2) -> list[float]:
    """Seconds of one ``dry_run`` (the request's whole check: target, template, every file, plan) per
    request and repetition, in the province's context as ``citylead onboard`` runs it; the first
    repetition with a cold resolver. Asserts that each request has no problem."""
    db = Database(app_url, pool_size=1)
    resolver = Resolver()
    out = []
    try:
        for request in requests:
            for _ in range(repeat):
                t0 = time.perf_counter()
                checked = await dry_run(db, resolver, TenantContext(f"/{request.code[:2]}/"), request)
                out.append(time.perf_counter() - t0)
                assert checked.problems == [], checked.problems[:5]
    finally:
        await db.dispose()
    return out


def hash_seconds(n: int = 5) -> float:
    """Median seconds of one Argon2id hash with the platform's parameters (``hash_password``)."""
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        hash_password("a-one-time-password")
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


@dataclass(frozen=True)
class Profiled:
    warm_seconds: float  # the import once, unprofiled, resolver cold
    phases_seconds: dict[str, float]  # its parts, timed one by one, resolver warm
    profiled_seconds: float  # the import again under cProfile, resolver warm
    phases: list[tuple[str, float]]  # (function, cumulative s) of our code and the driver
    own: list[tuple[str, float]]  # (function, own s) of anything


class _RollBack(Exception):
    pass


async def profile_inventory(app_url: str, tenant_path: str, code: str, data: bytes) -> Profiled:
    """Import the CSV ``data`` into ``code``'s inventory twice, each time after deleting its
    components, in one transaction that is rolled back; the second run under cProfile."""
    db = Database(app_url, pool_size=1)
    resolver = Resolver()
    try:

        async def once(profiler: cProfile.Profile | None) -> float:
            try:
                async with db.transaction(TenantContext(tenant_path)) as s:
                    county = await s.scalar(select(Tenant).where(Tenant.code == code))
                    assert county is not None
                    await s.execute(delete(Component).where(Component.tenant_id == county.id))
                    t0 = time.perf_counter()
                    if profiler is not None:
                        profiler.enable()
                    report = await do_import_components(
                        s, resolver, county, data, "text/csv", acting_user="bench"
                    )
                    if profiler is not None:
                        profiler.disable()
                    seconds = time.perf_counter() - t0
                    assert report.inserted == report.received > 0
                    raise _RollBack(seconds)
            except _RollBack as done:
                return float(done.args[0])

        warm = await once(None)
        parts = await _phases(db, resolver, tenant_path, code, data)
        profiler = cProfile.Profile()
        profiled = await once(profiler)
    finally:
        await db.dispose()
    stats = pstats.Stats(profiler)
    rows: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    phases, own = [], []
    for (file, _line, fn), (_cc, _nc, tt, ct, _callers) in rows.items():
        where = f"{Path(file).stem}.{fn}" if file != "~" else fn
        own.append((where, tt))
        if any(part in file for part in OURS) or "asyncpg" in file:
            phases.append((where, ct))
    phases.sort(key=lambda r: -r[1])
    own.sort(key=lambda r: -r[1])
    return Profiled(warm, parts, profiled, phases, own)


async def _phases(
    db: Database, resolver: Resolver, tenant_path: str, code: str, data: bytes
) -> dict[str, float]:
    """What ``do_import_components`` does, step by step (its own functions, called in order), with
    each SQL statement timed from the driver's side; rolled back."""
    statements: list[tuple[str, float]] = []

    def before(conn: Any, _cursor: Any, _sql: str, *_a: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, sql: str, *_a: Any) -> None:
        statements.append((" ".join(sql.split())[:40], time.perf_counter() - conn.info.pop("bench_t0")))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    out: dict[str, float] = {}
    try:
        async with db.transaction(TenantContext(tenant_path)) as s:
            county = await s.scalar(select(Tenant).where(Tenant.code == code))
            assert county is not None
            await s.execute(delete(Component).where(Component.tenant_id == county.id))
            t0 = time.perf_counter()
            _fmt, rows, _ = read_inventory(data, "text/csv")
            t1 = time.perf_counter()
            values, problems = await validate_rows(s, resolver, county, rows)
            assert not problems
            t2 = time.perf_counter()
            statements.clear()
            await _upsert(s, values)
            t3 = time.perf_counter()
            insert = sum(sec for sql, sec in statements if sql.startswith("INSERT INTO components"))
            other = sum(sec for sql, sec in statements if not sql.startswith("INSERT INTO components"))
            out = {
                "read the CSV (`read_inventory`)": t1 - t0,
                "check every row (`validate_rows`: catalogue, units, `check_row`)": t2 - t1,
                "COPY into the staging table (client + server)": t3 - t2 - insert - other,
                "`INSERT … SELECT … ON CONFLICT` into `components` (server: indexes, RLS)": insert,
                "staging table: create, truncate": other,
            }
            raise _RollBack(0)
    except _RollBack:
        return out
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)

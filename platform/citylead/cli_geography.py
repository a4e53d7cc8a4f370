"""``citylead geography``: import a county's streets, communities and grids, generate the demo
geography, list streets, and locate a point.

Runs on the server as an operator: it connects as the application role and acts in the county's
own context, so row-level security applies exactly as it does to the API. Imports are audited as
``cli:<login>``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cli_support import cli_actor, console, friendly, in_tenant
from tenants.errors import InvalidInput
from tenants.models import Tenant

__all__ = ["geography"]

T = TypeVar("T")


def _run(code: str, work: Callable[[AsyncSession, Tenant], Awaitable[T]]) -> T:
    return in_tenant(code, work, boundary=True)


def _read(file: Path) -> Any:
    try:
        return json.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read {file} as GeoJSON: {exc}") from exc


def _imported(code: str, work: Callable[[AsyncSession, Tenant], Awaitable[Any]]) -> None:
    report = _run(code, work)
    console.print(
        f"{code}: geography version {report.version} — {report.streets} streets/towns, "
        f"{report.communities} communities, {report.grids} grids, {report.area_km2} km²; "
        f"removed {sum(report.removed.values())} rows no longer present",
        soft_wrap=True,
    )


@click.group()
def geography() -> None:
    """Streets and towns, communities and unit grids (单元网格) per county."""


@geography.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly
def import_(code: str, file: Path) -> None:
    """Replace county CODE's geography with FILE (a GeoJSON FeatureCollection, docs/geography.md).
    Every problem is listed; nothing is changed unless there is none."""
    from citylead.geography.importer import do_import_geography

    collection = _read(file)

    async def work(s: AsyncSession, county: Tenant) -> Any:
        return await do_import_geography(s, county, collection, acting_user=cli_actor())

    _imported(code, work)


@geography.command("demo")
@click.argument("code")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the GeoJSON here instead."
)
@friendly
def demo(code: str, out: Path | None) -> None:
    """Generate demo grids for county CODE's built-up core and import them (or write them out)."""
    from citylead.geography.demo import demo_geography
    from citylead.geography.importer import do_import_geography

    if out is not None:

        async def generate(s: AsyncSession, county: Tenant) -> Any:
            return demo_geography(county)

        out.write_text(json.dumps(_run(code, generate), ensure_ascii=False), "utf-8")
        console.print(f"wrote the demo geography of {code} to {out}")
        return

    async def work(s: AsyncSession, county: Tenant) -> Any:
        return await do_import_geography(s, county, demo_geography(county), acting_user=cli_actor())

    _imported(code, work)


@geography.command("show")
@click.argument("code")
@friendly
def show(code: str) -> None:
    """County CODE's streets and towns, with their numbers of communities and grids."""
    from citylead.geography.service import list_streets

    async def work(s: AsyncSession, county: Tenant) -> Any:
        return await list_streets(s, county)

    rows = _run(code, work)
    table = Table(title=f"{code} streets and towns")
    for col in ("code", "name", "kind", "communities", "grids"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.code, r.name, r.kind, str(r.communities), str(r.grids))
    console.print(table)
    console.print(f"{len(rows)} streets/towns")


@geography.command("locate")
@click.argument("code")
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@friendly
def locate(code: str, lon: float, lat: float) -> None:
    """The grid, community and street at LON LAT (WGS84) in CODE (a county, or a city/province)."""
    from citylead.geography.index import Locator

    async def work(s: AsyncSession, scope: Tenant) -> Any:
        locator = Locator()
        county = scope if scope.level.is_division else await locator.county_of(s, scope, lon, lat)
        if county is None:
            raise InvalidInput(f"({lon}, {lat}) is outside {scope.name} ({scope.code})")
        return county.code, await locator.place(s, county, lon, lat)

    county, place = _run(code, work)
    if place.grid_code is None:
        console.print(f"{county}: inside the county, in no grid")
        return
    console.print(
        f"{county}: grid {place.grid_code}, community {place.community_code} {place.community_name}, "
        f"street {place.street_code} {place.street_name}",
        soft_wrap=True,
    )

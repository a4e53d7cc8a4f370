"""Sample onboarding inputs (接入样例数据) for a county: grids, units and a component inventory.

What ``citylead onboard county CODE --grids FILE --units FILE --components FILE`` reads, generated
for any registered county-level division, realistic in shape and deterministic for a seed: for the
province to try onboarding, and in bulk for the benchmarks.

- **grids** (GeoJSON, docs/geography.md): about ``grids`` square cells over the built-up core, the
  ones nearest the boundary's representative point, clipped to the boundary (a cell stays if at
  least half of it is inside), so every grid lies inside the county and none overlap. Cells are
  420 m like the demo's, smaller where the division could not hold that many (small or narrow
  divisions). Streets (街道) of ~4 communities (社区) of ~12 grids, each a compact block, with
  nested codes in the GB/T 30428.1 15-digit form.
- **units** (CSV or JSON, ``UNIT_COLUMNS``): the four sector departments the onboarding templates
  also create (CGZF, YLLH, SZSS, HJWS: the file's values win), one territorial unit per street
  (code = the 9-digit street code) and shop fronts (门前三包, ``MQ01`` …) up to ``units`` in all.
- **components** (the inventory CSV, ``citylead.units._formats.COLUMNS``): component classes of
  the national GB/T 47678.5 catalogue (covers, lights, bins and trees most often), 17-digit object
  ids ``county + class + serial``, points inside their grid with its codes, maintained and owned by
  the sector department whose classes cover the class, else by the street's territorial unit.
"""

from __future__ import annotations

import csv
import io
import json
import math
import operator
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape as to_shape
from shapely.geometry.base import BaseGeometry

from citylead.geography.demo import CELL_M, geography_collection, square_cells
from citylead.geography.demo import county_metres as county_frame
from citylead.units._formats import COLUMNS
from citylead.units.demo import COUNTY_DEPARTMENTS, DEMO_CLASSES, SHOPS, credit_code, territorial_name
from citylead.units.models import ComponentState, UnitKind
from provisioning.inputs import UNIT_COLUMNS
from tenants.errors import InvalidInput
from tenants.models import Tenant
from tenants.standards.crosswalk import read_catalog

__all__ = ["UNIT_COLUMNS", "SampleInputs", "sample_inputs", "units_csv", "write_sample_inputs"]

GRIDS_PER_COMMUNITY, COMMUNITIES_PER_STREET, MAX_STREETS = 12, 4, 99  # 街道 codes 001–099
ROOM = 1.5  # start with cells small enough for the division to hold 1.5 × the grids asked for
SHRINK, MIN_CELL_M = 0.85, 20.0
COMMON_WEIGHT = 3  # × the demo's weights: covers, lights, bins and trees; every other class weighs 1
SHOP_NAMES = (
    *[s for s in SHOPS if s != "老常州面馆"],
    "沙县小吃",
    "兰州拉面",
    "中国移动营业厅",
    "瑞幸咖啡",
    "蜜雪冰城",
    "美宜佳便利店",
    "五金建材商店",
    "鲜果时光水果店",
    "邮政储蓄银行",
    "时尚理发店",
)
COMPETENT = {
    "01": "住房和城乡建设局",
    "02": "交通运输局",
    "03": "城市管理局",
    "04": "园林绿化局",
    "05": "城市管理局",
}
UNKNOWN_OWNER = {"01023"}  # 不明井盖: no owner or maintainer, by definition
START = date(2010, 1, 1)  # installed_on is START + 0–5300 days
STATES = (ComponentState.INTACT.label, ComponentState.DAMAGED.label, ComponentState.LOST.label)
Cell = tuple[int, int, BaseGeometry]  # row from the north, column from the west, clipped cell


@dataclass(frozen=True)
class SampleInputs:
    grids: dict[str, Any]  # GeoJSON FeatureCollection
    units: list[dict[str, Any]]  # the JSON form's "units": UNIT_COLUMNS, lists as lists
    components_csv: bytes  # UTF-8 CSV with the COLUMNS header


def sample_inputs(
    county: Tenant, *, grids: int = 300, units: int = 40, components: int = 20_000, seed: int = 0
) -> SampleInputs:
    """The three input files of ``county`` (a division with its boundary loaded: undefer it)."""
    if grids < 1 or units < 0 or components < 0 or seed < 0:
        raise InvalidInput("grids must be at least 1; units, components and seed not negative")
    collection = _grids(county, grids)
    streets = [f["properties"] for f in collection["features"] if f["properties"]["layer"] == "street"]
    rng = random.Random(f"citylead-samples-{county.code}-{seed}")  # noqa: S311 - sample data
    unit_rows = _units(county, streets, units, rng)
    rows = _components(
        county, collection, unit_rows, components, rng, np.random.default_rng([seed, int(county.code)])
    )
    return SampleInputs(collection, unit_rows, _csv(COLUMNS, rows))


def write_sample_inputs(county: Tenant, out_dir: Path, **counts: int) -> dict[str, Path]:
    """Write grids.geojson, units.csv and components.csv into ``out_dir`` (created if missing);
    ``counts`` are sample_inputs' keywords (grids, units, components, seed)."""
    inputs = sample_inputs(county, **counts)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "grids": out_dir / "grids.geojson",
        "units": out_dir / "units.csv",
        "components": out_dir / "components.csv",
    }
    paths["grids"].write_text(json.dumps(inputs.grids, ensure_ascii=False), encoding="utf-8")
    paths["units"].write_bytes(units_csv(inputs.units))
    paths["components"].write_bytes(inputs.components_csv)
    return paths


def units_csv(units: list[dict[str, Any]]) -> bytes:
    """The units file as UTF-8 CSV: header ``UNIT_COLUMNS``, lists joined by ``;``, None empty."""
    return _csv(
        UNIT_COLUMNS, [{k: ";".join(v) if isinstance(v, list) else v for k, v in u.items()} for u in units]
    )


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    """Rows with every column as a key; None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(map(operator.itemgetter(*columns), rows))
    return out.getvalue().encode("utf-8")


# --- grids -----------------------------------------------------------------------------------


def _grids(county: Tenant, count: int) -> dict[str, Any]:
    proj, county_m = county_frame(county)
    cell, side, cells = _fit(county, county_m, count)
    half = side * cell / 2
    core = sorted(
        cells,
        key=lambda m: ((-half + (m[1] + 0.5) * cell) ** 2 + (half - (m[0] + 0.5) * cell) ** 2, m[0], m[1]),
    )[:count]
    streets = min(MAX_STREETS, max(1, round(count / (GRIDS_PER_COMMUNITY * COMMUNITIES_PER_STREET))))
    per_street = max(1, min(round(count / (GRIDS_PER_COMMUNITY * streets)), count // streets))
    layout = [
        [
            [m[2] for m in sorted(community, key=lambda m: (m[0], m[1]))]
            for community in _split(street, per_street)
        ]
        for street in _split(core, streets, unit=per_street)
    ]
    return geography_collection(county.code, proj, layout, stride=per_street)


def _fit(county: Tenant, county_m: BaseGeometry, count: int) -> tuple[float, int, list[Cell]]:
    """The cell size, the square's side and its kept cells: at least ``count`` of them. The square
    grows until it covers the whole division, then the cells shrink."""
    cell = min(CELL_M, math.sqrt(county_m.area / (count * ROOM)))
    reach = max(abs(b) for b in county_m.bounds)  # the origin (the representative point) is inside
    while cell >= MIN_CELL_M:
        whole = 2 * math.ceil(reach / cell) + 2
        side = min(whole, math.ceil(math.sqrt(count * ROOM)))
        while True:
            cells = square_cells(county_m, side, cell)
            if len(cells) >= count:
                return cell, side, cells
            if side >= whole:
                break
            side = min(whole, math.ceil(side * 1.3))
        cell *= SHRINK
    raise InvalidInput(
        f"{county.name} ({county.code}) cannot hold {count} grids of at least {MIN_CELL_M:.0f} m"
    )


def _split(members: list[Cell], parts: int, *, unit: int = 1) -> list[list[Cell]]:
    """``parts`` compact blocks of about equal size, of at least ``unit`` cells each (given enough):
    halve along the longer side, west or north block first, and recurse."""
    if parts == 1:
        return [members]
    rows, cols = [m[0] for m in members], [m[1] for m in members]
    by_cols = max(cols) - min(cols) >= max(rows) - min(rows)
    ordered = sorted(members, key=lambda m: (m[1], m[0]) if by_cols else (m[0], m[1]))
    first = parts // 2
    cut = min(max(round(len(members) * first / parts), first * unit), len(members) - (parts - first) * unit)
    return _split(ordered[:cut], first, unit=unit) + _split(ordered[cut:], parts - first, unit=unit)


# --- units -----------------------------------------------------------------------------------


def _units(
    county: Tenant, streets: list[dict[str, Any]], count: int, rng: random.Random
) -> list[dict[str, Any]]:
    accounts = [f"department@{county.code}"]  # the demo's convention: the county's department user
    units = [
        _unit(
            code,
            county.name + suffix,
            UnitKind.SECTOR,
            accounts,
            sector=sector,
            classes=list(classes),
            credit_code=credit_code(rng, "11", county.code),
            contact=f"值班电话 8{rng.randint(1000000, 9999999)}",
        )
        for code, suffix, sector, classes in COUNTY_DEPARTMENTS
    ]
    units += [
        _unit(
            s["code"],
            territorial_name(s["name"], "street"),
            UnitKind.TERRITORIAL,
            accounts,
            street_code=s["code"],
            credit_code=credit_code(rng, "11", county.code),
        )
        for s in streets
    ]
    pairs = [(shop, s) for s in streets for shop in SHOP_NAMES]
    rng.shuffle(pairs)
    for i in range(max(0, count - len(units))):
        shop, s = pairs[i % len(pairs)]
        branch = "" if i < len(pairs) else str(i // len(pairs) + 1)  # 苏果超市（人民街道2店）
        units.append(
            _unit(
                f"MQ{i + 1:02d}",
                f"{shop}（{s['name']}{branch}店）",
                UnitKind.SHOPFRONT,
                accounts,
                street_code=s["code"],
                credit_code=credit_code(rng, "92", county.code),
                contact=f"店长 1{rng.randint(3000000000, 9999999999)}",
            )
        )
    return units


def _unit(code: str, name: str, kind: UnitKind, accounts: list[str], **extra: Any) -> dict[str, Any]:
    values = {"code": code, "name": name, "kind": kind.value, "classes": [], "accounts": list(accounts)}
    return {c: extra.get(c, values.get(c)) for c in UNIT_COLUMNS}


# --- components ------------------------------------------------------------------------------


def _components(
    county: Tenant,
    collection: dict[str, Any],
    units: list[dict[str, Any]],
    count: int,
    rng: random.Random,
    gen: np.random.Generator,
) -> list[dict[str, Any]]:
    grids = [f["properties"] for f in collection["features"] if f["properties"]["layer"] == "grid"]
    shapes = [to_shape(f["geometry"]) for f in collection["features"] if f["properties"]["layer"] == "grid"]
    catalog = {r.code: r for r in read_catalog("gbt47678_5") if r.kind == "component"}
    classes = sorted(catalog)
    weights = [COMMON_WEIGHT * DEMO_CLASSES[c][0] if c in DEMO_CLASSES else 1 for c in classes]
    sectors = {c: _sector(c, units) for c in classes}
    code, name = county.code, county.name
    where = gen.integers(0, len(grids), size=count).tolist()
    points = _points(shapes, Counter(where), gen)
    installed = gen.integers(0, 5300, size=count).tolist()  # days from 2010-01-01
    changed = gen.integers(30, 600, size=count).tolist()  # days later, for what is not intact
    used = Counter[int]()
    serials = Counter[str]()
    rows = []
    for n, (klass, state) in enumerate(
        zip(rng.choices(classes, weights, k=count), rng.choices(STATES, (90, 8, 2), k=count), strict=True)
    ):
        g, row = where[n], catalog[klass]
        grid = grids[g]
        serials[klass] += 1
        lon, lat = points[g][used[g]]
        used[g] += 1
        unit = None if klass in UNKNOWN_OWNER else sectors[klass] or grid["street_code"]
        day = START + timedelta(days=installed[n])
        rows.append(
            {
                "object_id": f"{code}{klass}{serials[klass]:06d}",
                "class_code": klass,
                "name": row.name,
                "state": state,
                "lon": repr(float(lon)),
                "lat": repr(float(lat)),
                "grid_code": grid["code"],
                "street_code": grid["street_code"],
                "community_code": grid["community_code"],
                "owner_unit": unit,
                "maintainer_unit": unit,
                "competent_department": name + COMPETENT[row.major_code],
                "installed_on": day.isoformat(),
                "changed_on": None if state == STATES[0] else (day + timedelta(days=changed[n])).isoformat(),
                "source": "样例数据",
                "note": None,
            }
        )
    return rows


def _sector(klass: str, units: list[dict[str, Any]]) -> str | None:
    """The unit whose ``component:`` class prefix is the longest of the class's (the sector
    department), or None: then the street's territorial unit owns and maintains it."""
    best = max(
        ((len(p), u["code"]) for u in units for p in u["classes"] if f"component:{klass}".startswith(p)),
        default=None,
    )
    return best[1] if best else None


def _points(
    polygons: list[BaseGeometry], counts: Counter[int], gen: np.random.Generator
) -> dict[int, np.ndarray]:
    """``counts[g]`` points strictly inside ``polygons[g]``, at 7 decimals (≈ 1 cm) as written."""
    out: dict[int, np.ndarray] = {}
    for g in sorted(counts):
        polygon, need = polygons[g], counts[g]
        shapely.prepare(polygon)
        minx, miny, maxx, maxy = polygon.bounds
        found: list[np.ndarray] = []
        while need > 0:
            n = 2 * need + 8
            xy = np.round(np.column_stack((gen.uniform(minx, maxx, n), gen.uniform(miny, maxy, n))), 7)
            inside = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])][:need]
            found.append(inside)
            need -= len(inside)
        out[g] = np.concatenate(found)
    return out

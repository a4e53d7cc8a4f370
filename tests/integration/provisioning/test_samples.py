"""Sample onboarding inputs for 泰州 321200's divisions (read only: nothing is written to the
database): the grids pass the geography import's checks, the units the unit rules, every component
row the inventory rules that need no database; all of it deterministic for a seed."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import undefer

from citylead.db import Database
from citylead.geography._geo import Projection, county_shape
from citylead.geography.validation import Checked, check_geography
from citylead.units._formats import COLUMNS, read_inventory
from citylead.units.ids import id_problems
from citylead.units.validation import check_row, validate_unit
from provisioning.samples import UNIT_COLUMNS, SampleInputs, sample_inputs, units_csv, write_sample_inputs
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.standards.baseline import catalog_layer
from tenants.standards.layers import Layer, Source, fold
from tenants.standards.paths import Kind

TAIZHOU = ["321202", "321203", "321204", "321281", "321282", "321283"]
SECTORS = {"CGZF", "YLLH", "SZSS", "HJWS"}


@pytest.fixture(scope="module")
async def taizhou(owner_db: Database, registry: dict[str, Tenant]) -> dict[str, Tenant]:
    """泰州市 and its divisions with their boundaries (read only)."""
    async with owner_db.transaction(None) as s:
        rows = await s.scalars(
            select(Tenant).options(undefer(Tenant.boundary)).where(Tenant.code.in_([*TAIZHOU, "321200"]))
        )
        return {t.code: t for t in rows}


@pytest.fixture(scope="module")
def full(taizhou: dict[str, Tenant]) -> dict[str, SampleInputs]:
    """The full-size samples (300 grids, 40 units, 20,000 components) of two divisions."""
    return {code: sample_inputs(taizhou[code]) for code in ("321202", "321281")}


def _checked(county: Tenant, inputs: SampleInputs) -> Checked:
    assert county.boundary is not None
    return check_geography(
        inputs.grids, county_code=county.code, county_name=county.name, boundary=county.boundary
    )


def _grid_features(inputs: SampleInputs) -> dict[str, dict[str, Any]]:
    return {
        f["properties"]["code"]: f for f in inputs.grids["features"] if f["properties"]["layer"] == "grid"
    }


@pytest.mark.parametrize("count", [300, 150])
@pytest.mark.parametrize("code", TAIZHOU)
def test_grids_pass_the_import_checks(taizhou: dict[str, Tenant], code: str, count: int) -> None:
    county = taizhou[code]
    inputs = sample_inputs(county, grids=count, units=0, components=0)
    checked = _checked(county, inputs)  # raises InvalidInput listing every problem
    assert 0.9 * count <= len(checked.grids) <= 1.1 * count
    assert inputs.components_csv == ",".join(COLUMNS).encode() + b"\n"  # no components asked for

    # codes nest county → street → community → grid, in the GB/T 30428.1 15-digit form
    assert all(s.code.startswith(code) and 1 <= int(s.code[6:]) <= 99 for s in checked.streets)
    assert all(g.code.isdigit() and g.code.startswith(g.community_code) for g in checked.grids)
    per_street = Counter(c.street_code for c in checked.communities)
    assert len(set(per_street.values())) == 1 and len(checked.streets) >= 3, per_street
    assert {g.community_code for g in checked.grids} == {c.code for c in checked.communities}

    # inside the boundary (not just within the import's 50 m tolerance), of 420 m cells, no overlap
    assert county.boundary is not None
    boundary = county_shape(county.boundary)
    proj = Projection.around(boundary)
    metres = proj.to_metres(boundary)
    grids = [proj.to_metres(g.shape) for g in checked.grids]
    assert shapely.covers(metres.buffer(0.1), grids).all()  # 10 cm: coordinates rounded to 7 decimals
    assert all(0.5 * 420**2 - 500 <= g.area <= 420**2 + 500 for g in grids)
    assert shapely.union_all(grids).area == pytest.approx(sum(g.area for g in grids), abs=len(grids))


def test_a_division_too_small_for_420_m_cells_gets_smaller_ones(taizhou: dict[str, Tenant]) -> None:
    """海陵区 (≈ 380 km²) cannot hold 3,000 cells of 420 m (≈ 530 km²): the cells shrink."""
    county = taizhou["321202"]
    checked = _checked(county, sample_inputs(county, grids=3_000, units=0, components=0))
    assert 2_700 <= len(checked.grids) <= 3_300
    assert max(g.area_m2 for g in checked.grids) < 0.9 * 420**2
    assert len(checked.streets) == 62 and len(checked.communities) == 62 * 4


def test_units_pass_the_unit_rules(taizhou: dict[str, Tenant], full: dict[str, SampleInputs]) -> None:
    county, inputs = taizhou["321202"], full["321202"]
    units = inputs.units
    assert [validate_unit(county, u) for u in units] == [[] for _ in units]
    assert len(units) == 40 and len({u["code"] for u in units}) == 40
    assert all(list(u) == list(UNIT_COLUMNS) for u in units)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for u in units:
        by_kind.setdefault(u["kind"], []).append(u)
    assert {u["code"] for u in by_kind["sector"]} == SECTORS
    assert next(u for u in units if u["code"] == "CGZF")["name"] == "海陵区城管执法大队"

    streets = {g.street_code for g in _checked(county, inputs).grids}
    territorial = by_kind["territorial"]
    assert sorted(u["street_code"] for u in territorial) == sorted(streets)  # one per street
    assert all(u["code"] == u["street_code"] and u["name"].endswith("街道办事处") for u in territorial)
    shops = by_kind["shopfront"]
    assert [u["code"] for u in shops] == [f"MQ{i:02d}" for i in range(1, 41 - 4 - len(streets))]
    assert {u["street_code"] for u in shops} <= streets
    assert all(u["credit_code"][2:8] == "321202" for u in units)


def test_the_units_csv_reads_back_as_the_json_form(full: dict[str, SampleInputs]) -> None:
    units = full["321281"].units
    data = units_csv(units)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert data.startswith(b"code,name,kind,sector,street_code,classes,accounts,credit_code,contact\n")
    back = [
        {
            k: (v.split(";") if v else []) if k in ("classes", "accounts") else v or None
            for k, v in row.items()
        }
        for row in rows
    ]
    assert back == units
    assert rows[2]["classes"] == "component:01;component:02;matter:01;matter:02"  # SZSS


@pytest.mark.parametrize("code", ["321202", "321281"])
def test_every_component_row_passes_the_inventory_rules(
    taizhou: dict[str, Tenant], full: dict[str, SampleInputs], code: str
) -> None:
    county, inputs = taizhou[code], full[code]
    fmt, raw, shape_problems = read_inventory(inputs.components_csv, "text/csv")
    assert (fmt, shape_problems, len(raw)) == ("csv", [], 20_000)
    assert inputs.components_csv.decode("utf-8").split("\n", 1)[0] == ",".join(COLUMNS)

    layer = catalog_layer()
    catalog = fold(Kind.CATALOG, [Layer(Source("000000", 1), layer)])
    units = {u["code"]: county.id for u in inputs.units}
    problems: list[FieldProblem] = []
    rows = [check_row(r, county, catalog, units, problems) for r in raw]
    assert problems == []

    grids = _grid_features(inputs)
    polygons = {c: shape(f["geometry"]) for c, f in grids.items()}
    assert len({r["object_id"] for r in rows}) == 20_000
    for r in rows:
        assert id_problems(r["object_id"], county_code=code, class_code=r["class_code"]) == []
        assert len(r["object_id"]) == 17 and r["edition"] == "2026"
        assert layer[f"catalog/component/{r['class_code']}/name"] == r["name"]
        props = grids[r["grid_code"]]["properties"]
        assert (r["street_code"], r["community_code"]) == (props["street_code"], props["community_code"])
        assert polygons[r["grid_code"]].contains(shapely.Point(r["lon"], r["lat"])), r["object_id"]
        assert r["owner_unit"] == r["maintainer_unit"]
        assert (r["owner_unit"] is None) == (r["class_code"] == "01023")
    classes = Counter(r["class_code"] for r in rows)
    assert len(classes) >= 100 and classes.most_common(1)[0][0] in {"03005", "04002"}
    owners = Counter(r["owner_unit"] for r in rows)
    assert set(owners) - {None} <= set(units) and SECTORS - {"CGZF"} <= set(owners)
    assert set(owners) & {g["properties"]["street_code"] for g in grids.values()}  # territorial
    assert {r["grid_code"] for r in rows} == set(grids)  # 20,000 objects reach all 300 grids
    assert Counter(r["state"] for r in rows)["intact"] > 17_000


def test_deterministic_for_a_seed(taizhou: dict[str, Tenant], full: dict[str, SampleInputs]) -> None:
    county = taizhou["321202"]
    again = sample_inputs(county)
    assert again == full["321202"]
    other = sample_inputs(county, seed=1)
    assert other.grids == again.grids  # the core does not depend on the seed
    assert other.units != again.units and other.components_csv != again.components_csv
    assert [u["code"] for u in other.units][:10] == [u["code"] for u in again.units][:10]


def test_write_sample_inputs(taizhou: dict[str, Tenant], tmp_path: Path) -> None:
    county = taizhou["321283"]
    paths = write_sample_inputs(county, tmp_path / "out", grids=150, units=30, components=1_000, seed=7)
    assert paths == {
        "grids": tmp_path / "out" / "grids.geojson",
        "units": tmp_path / "out" / "units.csv",
        "components": tmp_path / "out" / "components.csv",
    }
    inputs = sample_inputs(county, grids=150, units=30, components=1_000, seed=7)
    assert json.loads(paths["grids"].read_text("utf-8")) == inputs.grids
    assert paths["units"].read_bytes() == units_csv(inputs.units)
    assert paths["components"].read_bytes() == inputs.components_csv
    assert paths["components"].read_bytes().count(b"\n") == 1_001


def test_only_a_division_with_its_boundary(taizhou: dict[str, Tenant]) -> None:
    with pytest.raises(InvalidInput, match="county-level division"):
        sample_inputs(taizhou["321200"], components=0)
    county = taizhou["321202"]
    bare = Tenant(code=county.code, name=county.name, level=county.level, path=county.path, boundary=None)
    with pytest.raises(InvalidInput, match="no boundary"):
        sample_inputs(bare, components=0)


def test_generation_time(taizhou: dict[str, Tenant]) -> None:
    """Printed for the record, not asserted (timing belongs in tests/benchmarks)."""
    start = time.perf_counter()
    inputs = sample_inputs(taizhou["321204"], grids=300, units=40, components=20_000)
    elapsed = time.perf_counter() - start
    assert inputs.components_csv.count(b"\n") == 20_001
    print(f"\nsample_inputs(姜堰区, 300 grids, 40 units, 20,000 components): {elapsed:.2f} s")  # noqa: T201

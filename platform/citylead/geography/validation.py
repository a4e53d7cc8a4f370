"""Checking a county's geography before anything is written: every problem of every feature, at
once. Pure: no database; the county boundary comes in as GeoJSON.

The import format (docs/geography.md): one GeoJSON FeatureCollection whose features carry
``properties.layer`` = ``street`` | ``community`` | ``grid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from citylead.geography._geo import BOUNDARY_TOLERANCE_M, to_geojson
from citylead.geography.codes import (
    GridStandard,
    community_code_problems,
    grid_code_problems,
    grid_standard,
    street_code_problems,
    street_kind,
)
from citylead.geography.models import StreetKind
from citylead.geography.spatial import OVERLAP_FRACTION, OVERLAP_M2, measure, parse_polygon
from tenants.errors import FieldProblem, InvalidInput

__all__ = [
    "MAX_FEATURES",
    "Checked",
    "CommunityIn",
    "GridIn",
    "StreetIn",
    "check_geography",
]

MAX_FEATURES = 20_000
LAYERS = ("street", "community", "grid")
_KINDS = {k.value: k for k in StreetKind} | {k.label: k for k in StreetKind}


@dataclass(frozen=True, slots=True)
class StreetIn:
    code: str
    name: str
    kind: StreetKind


@dataclass(frozen=True, slots=True)
class CommunityIn:
    code: str
    street_code: str
    name: str


@dataclass(frozen=True, slots=True)
class GridIn:
    code: str
    street_code: str
    community_code: str
    shape: BaseGeometry  # lon/lat
    geometry: dict[str, Any]  # GeoJSON as stored
    area_m2: float
    centroid: tuple[float, float]


@dataclass
class Checked:
    streets: list[StreetIn] = field(default_factory=list)
    communities: list[CommunityIn] = field(default_factory=list)
    grids: list[GridIn] = field(default_factory=list)


@dataclass
class _Grid:
    at: str
    code: str
    street_code: str | None
    community_code: str | None
    shape: BaseGeometry | None
    ok: bool  # the code and its parents' codes are well-formed


class _Problems(list[FieldProblem]):
    def add(self, field: str, rule: str, value: Any = None) -> None:
        self.append(FieldProblem(field, rule, value))


def check_geography(
    collection: object, *, county_code: str, county_name: str, boundary: dict[str, Any]
) -> Checked:
    """The streets, communities and grids of ``collection``, checked against each other and the
    county boundary; or InvalidInput listing every problem (nothing is half-accepted)."""
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection":
        raise InvalidInput(
            "the geography must be a GeoJSON FeatureCollection",
            errors=[FieldProblem("type", "must be FeatureCollection")],
        )
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput(
            "the geography has no features", errors=[FieldProblem("features", "a non-empty list of features")]
        )
    if len(features) > MAX_FEATURES:
        raise InvalidInput(
            f"at most {MAX_FEATURES} features per import",
            errors=[FieldProblem("features", f"at most {MAX_FEATURES} features", len(features))],
        )
    problems = _Problems()
    out = Checked()
    grids: list[_Grid] = []
    seen: dict[tuple[str, str], str] = {}
    n_grids = 0
    for i, feature in enumerate(features):
        at = f"features/{i}"
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            problems.add(f"{at}/type", "must be a GeoJSON Feature")
            continue
        if not isinstance(props, Mapping):
            problems.add(f"{at}/properties", "must be an object with layer, code and name")
            continue
        layer, code = props.get("layer"), props.get("code")
        if layer not in LAYERS:
            problems.add(f"{at}/properties/layer", "must be street, community or grid", layer)
            continue
        if isinstance(code, str):
            first = seen.setdefault((layer, code), at)
            if first != at:
                problems.add(f"{at}/properties/code", f"duplicate {layer} code: also {first}", code)
        if layer == "street":
            _street(at, props, county_code, problems, out)
        elif layer == "community":
            _community(at, props, problems, out)
        else:
            n_grids += 1
            grids.append(_grid(at, props, feature.get("geometry"), county_code, problems))
    _parents(grids, out, seen, problems)
    _geometries(grids, county_code, county_name, boundary, problems, out)
    if not n_grids:
        problems.add("features", "a geography has at least one grid feature")
    if problems:
        raise InvalidInput(
            f"{len(problems)} problem(s) in the geography of {county_name} ({county_code}); "
            "nothing was changed",
            errors=sorted(problems, key=_feature_number),
        )
    return out


def _feature_number(problem: FieldProblem) -> int:
    """Problems listed feature by feature (a stable sort keeps each feature's own order)."""
    parts = problem.field.split("/")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


def _name(at: str, props: Mapping[str, Any], problems: _Problems) -> str | None:
    name = props.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
        problems.add(f"{at}/properties/name", "required: 1–64 characters", name)
        return None
    return name.strip()


def _street(at: str, props: Mapping[str, Any], county: str, problems: _Problems, out: Checked) -> None:
    code = props.get("code")
    rules = street_code_problems(code, county)
    for rule in rules:
        problems.add(f"{at}/properties/code", rule, code)
    name = _name(at, props, problems)
    kind = street_kind(code) if isinstance(code, str) else None
    given = props.get("kind")
    if given is not None and kind is not None and _KINDS.get(str(given)) is not kind:
        problems.add(
            f"{at}/properties/kind",
            f"the code {code} is a {kind.value} ({kind.label}); kind must agree",
            given,
        )
    if not rules and name is not None and kind is not None:
        assert isinstance(code, str)
        out.streets.append(StreetIn(code, name, kind))


def _community(at: str, props: Mapping[str, Any], problems: _Problems, out: Checked) -> None:
    code, street = props.get("code"), props.get("street_code")
    if street is not None and not isinstance(street, str):
        problems.add(f"{at}/properties/street_code", "a street code is a string of 9 digits", street)
        street = None
    rules = community_code_problems(code, street)
    for rule in rules:
        problems.add(f"{at}/properties/code", rule, code)
    name = _name(at, props, problems)
    if not rules and name is not None:
        assert isinstance(code, str)
        out.communities.append(CommunityIn(code, street or code[:9], name))


def _grid(at: str, props: Mapping[str, Any], geometry: object, county: str, problems: _Problems) -> _Grid:
    code, street, community = props.get("code"), props.get("street_code"), props.get("community_code")
    for key, value in (("street_code", street), ("community_code", community)):
        if value is not None and not isinstance(value, str):
            problems.add(f"{at}/properties/{key}", "a code is a string", value)
    street = street if isinstance(street, str) else None
    community = community if isinstance(community, str) else None
    rules = grid_code_problems(code, county, street_code=street, community_code=community)
    for rule in rules:
        problems.add(f"{at}/properties/code", rule, code)
    shape = _shape(at, geometry, problems)
    if rules:
        return _Grid(at, str(code), None, None, shape, ok=False)
    assert isinstance(code, str)
    if grid_standard(code) is GridStandard.GBT_47678:
        for key, value in (("street_code", street), ("community_code", community)):
            if value is None:
                problems.add(f"{at}/properties/{key}", "required for a GB/T 47678 grid code", None)
    else:  # the digit forms carry their street and community
        street, community = street or code[:9], community or code[:12]
    return _Grid(at, code, street, community, shape, ok=street is not None and community is not None)


def _shape(at: str, geometry: object, problems: _Problems) -> BaseGeometry | None:
    parsed = parse_polygon(geometry)
    if isinstance(parsed, str):
        problems.add(f"{at}/geometry", parsed)
        return None
    return parsed


def _parents(grids: list[_Grid], out: Checked, seen: dict[tuple[str, str], str], problems: _Problems) -> None:
    streets = {s.code for s in out.streets}
    communities = {c.code: c for c in out.communities}
    for c in out.communities:
        if c.street_code not in streets:
            at = seen[("community", c.code)]
            problems.add(f"{at}/properties/street_code", "no street feature has this code", c.street_code)
    for g in grids:
        if g.street_code is not None and g.street_code not in streets:
            problems.add(f"{g.at}/properties/street_code", "no street feature has this code", g.street_code)
        if g.community_code is None:
            continue
        parent = communities.get(g.community_code)
        if parent is None:
            problems.add(
                f"{g.at}/properties/community_code", "no community feature has this code", g.community_code
            )
        elif g.street_code is not None and parent.street_code != g.street_code:
            problems.add(
                f"{g.at}/properties/community_code",
                f"the community belongs to street {parent.street_code}, not {g.street_code}",
                g.community_code,
            )


def _geometries(
    grids: list[_Grid],
    county_code: str,
    county_name: str,
    boundary: dict[str, Any],
    problems: _Problems,
    out: Checked,
) -> None:
    usable = [g for g in grids if g.shape is not None]
    if not usable:
        return
    m = measure([g.shape for g in usable if g.shape is not None], boundary)
    for k, outside in m.outside_m2.items():
        problems.add(
            f"{usable[k].at}/geometry",
            f"lies outside the county boundary of {county_name} ({county_code}) by more than "
            f"{BOUNDARY_TOLERANCE_M:.0f} m ({outside:,.0f} m² outside)",
            round(outside, 1),
        )
    for a, b, m2 in m.overlaps:
        for this, other in ((usable[a], usable[b]), (usable[b], usable[a])):
            problems.add(
                f"{this.at}/geometry",
                f"overlaps grid {other.code} ({other.at}) by {m2:,.0f} m², more than "
                f"{OVERLAP_M2:.0f} m² and {OVERLAP_FRACTION:.0%} of the smaller grid",
                round(m2, 1),
            )
    bad = set(m.outside_m2) | {k for pair in m.overlaps for k in pair[:2]}
    for k, g in enumerate(usable):
        if k in bad or not g.ok or g.street_code is None or g.community_code is None or g.shape is None:
            continue
        out.grids.append(
            GridIn(
                g.code,
                g.street_code,
                g.community_code,
                g.shape,
                to_geojson(g.shape),
                round(float(m.areas_m2[k]), 1),
                (round(float(m.centroids[k][0]), 7), round(float(m.centroids[k][1]), 7)),
            )
        )

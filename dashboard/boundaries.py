"""Division boundaries for the maps (地图边界): simplified once, kept in the process.

The registry stores each division's boundary as GeoJSON (a few hundred vertices). At province zoom
the Coverage map needs far fewer, so each boundary is simplified once (``TOLERANCE``, topology
kept, coordinates rounded to 5 decimals) and cached under its code and a fingerprint of the tenant
row (``version`` and ``updated_at``, which the registry's reload bumps). A call then assembles
cached pieces and reads from the database only the boundaries it has not seen in that version.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from shapely.geometry import mapping, shape

__all__ = ["CACHE", "MAX_ENTRIES", "TOLERANCE", "BoundaryCache", "simplify"]

TOLERANCE = 0.005  # degrees, ≈ 500 m: a pixel of a province (≈ 5°) drawn 1,000 px wide
MAX_ENTRIES = 4096  # a province has ≈ 100 divisions; every division of China is ≈ 3,000
DECIMALS = 5  # ≈ 1 m

Geometry = dict[str, Any]


def _rounded(coords: Any) -> Any:
    if isinstance(coords[0], int | float):
        return [round(float(c), DECIMALS) for c in coords]
    return [_rounded(c) for c in coords]


def simplify(geometry: Mapping[str, Any], tolerance: float = TOLERANCE) -> Geometry:
    """``geometry`` with fewer vertices (Douglas–Peucker, topology preserved), as plain GeoJSON."""
    simple = mapping(shape(geometry).simplify(tolerance, preserve_topology=True))
    return {"type": simple["type"], "coordinates": _rounded(simple["coordinates"])}


class BoundaryCache:
    """Simplified geometries by division code and row fingerprint; least recently used out first.

    Not locked: callbacks run in threads, but a lost race only simplifies a boundary twice."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[Hashable, Geometry]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, code: str, fingerprint: Hashable) -> Geometry | None:
        """The cached geometry of ``code`` if it was simplified from this fingerprint's row."""
        found = self._entries.get(code)
        if found is None or found[0] != fingerprint:
            return None
        self._entries.move_to_end(code)
        return found[1]

    def put(self, code: str, fingerprint: Hashable, geometry: Mapping[str, Any]) -> Geometry:
        """Simplify ``geometry``, keep it (replacing an older fingerprint) and return it."""
        simple = simplify(geometry)
        self._entries[code] = (fingerprint, simple)
        self._entries.move_to_end(code)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return simple


CACHE = BoundaryCache()  # the process's: every reader of the dashboard shares it

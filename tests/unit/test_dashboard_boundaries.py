"""The map's boundary cache: simplified once per division and row version, bounded."""

from __future__ import annotations

from typing import Any

from dashboard.boundaries import TOLERANCE, BoundaryCache, simplify


def zigzag(wobble: float) -> dict[str, Any]:
    """A 1° square whose bottom edge has 9 extra vertices ``wobble`` degrees off the line."""
    bottom = [[i / 10, 30 + (wobble if i % 2 else 0)] for i in range(11)]
    ring = [*bottom, [1, 31], [0, 31], [0, 30]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def test_simplify_drops_vertices_under_the_tolerance_and_keeps_the_shape() -> None:
    small = simplify(zigzag(TOLERANCE / 2))
    assert small == {"type": "Polygon", "coordinates": [[[0, 30], [1, 30], [1, 31], [0, 31], [0, 30]]]}
    kept = simplify(zigzag(TOLERANCE * 2))
    assert len(kept["coordinates"][0]) == 14  # wobbles larger than the tolerance stay


def test_simplify_rounds_to_five_decimals_as_plain_lists() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[(0.123456789, 30), (1, 30), (1, 31), (0, 31), (0.123456789, 30)]],
    }
    assert simplify(square)["coordinates"][0][0] == [0.12346, 30.0]


def test_cache_answers_only_for_the_same_fingerprint() -> None:
    cache = BoundaryCache()
    assert cache.get("990101", (1, "t0")) is None
    first = cache.put("990101", (1, "t0"), zigzag(0))
    assert cache.get("990101", (1, "t0")) is first
    assert cache.get("990101", (2, "t1")) is None  # the registry reloaded the boundary
    cache.put("990101", (2, "t1"), zigzag(0.1))
    assert len(cache) == 1
    assert cache.get("990101", (1, "t0")) is None


def test_cache_drops_the_least_recently_used_beyond_its_size() -> None:
    cache = BoundaryCache(max_entries=2)
    cache.put("990101", 1, zigzag(0))
    cache.put("990102", 1, zigzag(0))
    assert cache.get("990101", 1) is not None  # 990102 is now the oldest
    cache.put("990103", 1, zigzag(0))
    assert (cache.get("990101", 1) is not None, cache.get("990102", 1), len(cache)) == (True, None, 2)

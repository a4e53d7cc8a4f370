"""The bulk path's shortcuts give what the plain computation gives: the crowding prefilter, the
cumulative weights, the remembered place and the COPY records."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime
from itertools import accumulate
from typing import Any, cast
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from citylead.cases.duplicates import metres
from citylead.geography.index import CountyIndex, Place
from citylead.history.bulk import CASE_COLUMNS, EVENT_COLUMNS, rows_of
from citylead.history.script import _Seen, crowded
from citylead.history.simulate import CASE_DEFAULTS, Built, CaseRow
from citylead.history.world import World

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 10, 9, 10, tzinfo=SH)
# one metre north is about 0.000009° of latitude
LAT, LON = 33.63, 116.98


def test_crowded_at_the_edge_of_the_radius() -> None:
    north = LAT + 100 / 6_371_000 * 180 / 3.141592653589793  # 100 m north (to rounding)
    seen = [_Seen(LON, north, AT)]
    exact = metres(LON, north, LON, LAT)
    assert 99.999 < exact < 100.001
    assert crowded(seen, LON, LAT, exact)  # at the radius: crowded (<=)
    assert not crowded(seen, LON, LAT, exact - 1e-9)
    assert not crowded([], LON, LAT, 1e6)
    # far apart in longitude but at the same latitude: the prefilter lets it through to metres
    east = [_Seen(LON + 0.01, LAT, AT)]  # about 930 m east
    assert not crowded(east, LON, LAT, 900)
    assert crowded(east, LON, LAT, 940)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02)), max_size=30),
    st.floats(-0.02, 0.02),
    st.floats(-0.02, 0.02),
    st.floats(0, 3000),
)
def test_crowded_is_any_report_within_the_radius(
    offsets: list[tuple[float, float]], dlon: float, dlat: float, near: float
) -> None:
    seen = [_Seen(LON + a, LAT + b, AT) for a, b in offsets]
    lon, lat = LON + dlon, LAT + dlat
    assert crowded(seen, lon, lat, near) == any(metres(s.lon, s.lat, lon, lat) <= near for s in seen)


def test_cumulative_weights_draw_what_weights_draw() -> None:
    """The planner hands random.choices the accumulated popularity once, not the weights each time."""
    classes = [f"c{i}" for i in range(40)]
    weights = [1 / (i + 1) for i in range(len(classes))]
    cumulative = list(accumulate(1 / (i + 1) for i in range(len(classes))))
    a, b = random.Random("same"), random.Random("same")
    assert [a.choices(classes, weights)[0] for _ in range(500)] == [
        b.choices(classes, cum_weights=cumulative)[0] for _ in range(500)
    ]


class _Index:
    """A county index that counts its questions."""

    def __init__(self) -> None:
        self.asked = 0

    def inside(self, lon: float, lat: float) -> bool:
        self.asked += 1
        return lon < 117

    def grid_at(self, lon: float, lat: float) -> Place:
        return Place(f"g{lon:.2f}", None, "s1", "街道", None)


def _world(index: _Index) -> World:
    return World(
        county=cast("Any", None),
        city=None,
        docs={},
        calendar=cast("Any", None),
        index=cast("CountyIndex", index),
        boxes=[],
        classes=[],
        units={},
        tenant_codes={},
        objects=[],
        posts={},
    )


def test_the_last_place_is_remembered() -> None:
    index = _Index()
    world = _world(index)
    first = world.place(116.5, 33.6)
    assert first is not None and first.grid_code == "g116.50"
    assert world.place(116.5, 33.6) is first
    assert index.asked == 1  # the planner places a report, then the simulation places it again
    assert world.place(117.5, 33.6) is None  # outside the county
    assert world.place(117.5, 33.6) is None
    assert index.asked == 2
    second = world.place(116.7, 33.6)
    assert second is not None and second.grid_code == "g116.70"
    assert index.asked == 3


def test_copy_records_follow_the_columns_with_json_text() -> None:
    tenant, case_id = uuid.uuid4(), uuid.uuid4()
    given: dict[str, Any] = {
        "tenant_id": tenant,
        "id": case_id,
        "number": "341302-20261009-0000001",
        "state": "accepted",
        "reporter": {"name": "王女士"},
        "standards": {"catalog": "340000:1"},
        "limits": {"dispose": "2wh"},
        "suggestion": {"unit_code": None},
        "version": 1,
    }
    blank = {c: None for c in CASE_COLUMNS if c not in CASE_DEFAULTS}
    case = CaseRow(**(blank | given))
    event = {
        "tenant_id": tenant,
        "case_id": case_id,
        "seq": 1,
        "at": AT,
        "actor": "supervisor01@341302",
        "actor_role": None,
        "actor_tenant": None,
        "action": "report",
        "from_state": None,
        "to_state": "accepted",
        "reason": "监督员上报：井盖",
        "data": {"source": "supervisor", "routing": {"unit_code": None}},
    }
    cases, events = rows_of([Built(cast("Any", case), [event])])
    row = dict(zip(CASE_COLUMNS, cases[0], strict=True))
    assert (row["id"], row["state"], row["version"], row["rework_count"]) == (case_id, "accepted", 1, 0)
    assert row["reporter"] == '{"name": "王女士"}'  # Chinese as is (ensure_ascii=False)
    assert row["paused"] == "[]"
    assert row["pending"] == "{}"
    assert row["unit_code"] is None  # NULL, not "null"
    assert json.loads(row["suggestion"]) == {"unit_code": None}
    written = dict(zip(EVENT_COLUMNS, events[0], strict=True))
    assert written["data"] == '{"source": "supervisor", "routing": {"unit_code": null}}'
    assert written["reason"] == "监督员上报：井盖"
    assert written["at"] == AT

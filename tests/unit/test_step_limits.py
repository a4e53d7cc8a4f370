"""The filing (立案时限, ``step/file``) and dispatch (派遣时限, ``step/dispatch``) limits of the
disposal manual: the path grammar, the policies of the levels above, the typed view, what a case
pins at intake and the deadline a step's first event pins (pure, no database).

Calendar (baseline): 08:30–12:00 and 13:30–17:30 Asia/Shanghai; 2026-03-02 is a Monday and the
week has no holiday.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from citylead.cases.deadlines import pinned_limits, step_due
from citylead.history.simulate import CaseRow
from tenants.standards import baseline
from tenants.standards.layers import Effective, Layer, Policy, Source, fold, validate_layer
from tenants.standards.paths import Kind, Order, check_entry, rule_for
from tenants.standards.seeding import province_baseline
from tenants.standards.views import Manual, calendar_of
from tenants.standards.worktime import Limit

SH = ZoneInfo("Asia/Shanghai")
P1, C2, K3 = Source("340000", 1), Source("341500", 2), Source("341522", 3)
FILE, DISPATCH = "manual/default/step/file", "manual/default/step/dispatch"
ROAD_DISPATCH = "manual/matter/06012/step/dispatch"
LIMIT_HINT = "is not a time limit"
UNKNOWN = "unknown path: see the path grammar in docs/standards.md"


@cache
def _baseline() -> dict[Kind, dict[str, Any]]:
    return province_baseline()


def manual_doc(*lower: Layer, without: tuple[str, ...] = ()) -> Effective:
    """The baseline manual (less the paths ``without``) folded with ``lower``: a fresh view cache."""
    province = {p: v for p, v in _baseline()[Kind.MANUAL].items() if p not in without}
    return fold(Kind.MANUAL, [Layer(P1, province), *lower])


def calendar_doc() -> Effective:
    return fold(Kind.CALENDAR, [Layer(P1, _baseline()[Kind.CALENDAR])])


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 3, day, hh, mm, tzinfo=SH)


# --- the grammar ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("manual/matter/06012/step/file", "30wmin"),
        ("manual/matter/06012-01/step/dispatch", "15wmin"),
        ("manual/component/0101/step/file", "1wh"),
        ("manual/component/01001/step/dispatch", "20min"),  # natural time, day and night
        (FILE, "0.5wh"),
        (DISPATCH, "0wmin"),
    ],
)
def test_filing_and_dispatch_limits_are_step_limits(path: str, value: str) -> None:
    assert check_entry(Kind.MANUAL, path, value) is None
    rule = rule_for(path)
    assert rule is not None
    assert (rule.describe, rule.order) == ("a step limit", Order.SHRINK)


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (FILE, "half an hour", LIMIT_HINT),
        (DISPATCH, "-5wmin", LIMIT_HINT),
        (DISPATCH, 30, 'must be a time limit such as "2wh", "1wd", "30wmin" or "24h"'),
        (FILE, None, 'must be a time limit such as "2wh", "1wd", "30wmin" or "24h"'),
        ("manual/matter/06012/step/filing", "30wmin", UNKNOWN),  # filing is the 立案条件 text leaf
        ("manual/matter/06012/step/close", "1wh", UNKNOWN),
        ("manual/matter/06/step/file", "30wmin", UNKNOWN),  # a major class has no rule
    ],
)
def test_invalid_filing_and_dispatch_limits_are_refused(path: str, value: Any, problem: str) -> None:
    found = check_entry(Kind.MANUAL, path, value)
    assert found is not None and problem in found


def test_the_baseline_assumes_30_working_minutes_for_both() -> None:
    layer = _baseline()[Kind.MANUAL]
    assert (layer[FILE], layer[DISPATCH]) == ("30wmin", "30wmin")
    assert baseline.DEFAULT["step/file"] == baseline.DEFAULT["step/dispatch"] == "30wmin"
    assert not [p for p in layer if p.endswith(("/step/file", "/step/dispatch")) and "/default/" not in p]


# --- the policies of the levels above -----------------------------------------------------------------


def _violations(lower: Layer, *upper: Layer) -> list[tuple[str, str, Any, Any, Source | None]]:
    found = validate_layer(lower.source.code, lower, fold(Kind.MANUAL, list(upper)), Kind.MANUAL)
    return [(v.path, v.rule, v.value, v.upper, v.set_by) for v in found]


def test_free_by_default_a_county_may_loosen_or_tighten() -> None:
    province = Layer(P1, {FILE: "30wmin", DISPATCH: "30wmin"})
    assert _violations(Layer(K3, {FILE: "1wh", DISPATCH: "15wmin"}), province) == []


def test_tighten_only_lets_a_county_shorten_but_not_lengthen() -> None:
    tighten = {"manual/default/step": Policy("tighten_only")}
    province = Layer(P1, {FILE: "30wmin", DISPATCH: "30wmin"}, policies=tighten)
    assert _violations(Layer(K3, {FILE: "0.5wh", DISPATCH: "15wmin"}), province) == []
    assert _violations(Layer(K3, {DISPATCH: "31wmin"}), province) == [
        (DISPATCH, "tighten_only", "31wmin", "30wmin", P1)
    ]


def test_a_city_lock_holds_for_its_counties() -> None:
    province = Layer(P1, {FILE: "30wmin", DISPATCH: "30wmin"})
    city = Layer(C2, {ROAD_DISPATCH: "20wmin"}, policies={ROAD_DISPATCH: Policy("locked")})
    assert _violations(city, province) == []  # the city itself sets it freely
    assert _violations(Layer(K3, {ROAD_DISPATCH: "10wmin"}), province, city) == [
        (ROAD_DISPATCH, "locked", "10wmin", "20wmin", C2)
    ]
    assert _violations(Layer(K3, {FILE: "10wmin"}), province, city) == []  # the filing limit is free


# --- the typed view and what a case pins -----------------------------------------------------------


def test_a_class_takes_the_default_unless_a_level_below_sets_its_own() -> None:
    road = Manual.of(manual_doc()).rule("matter", "06012")
    assert road.file == road.dispatch == Limit.parse("30wmin")
    assert (road.sources["step/file"], road.sources["step/dispatch"]) == (P1, P1)
    county = Layer(K3, {ROAD_DISPATCH: "15wmin", FILE: "20wmin"})
    doc = manual_doc(county)
    road = Manual.of(doc).rule("matter", "06012")
    assert (road.file, road.dispatch) == (Limit.parse("20wmin"), Limit.parse("15wmin"))
    assert (road.sources["step/file"], road.sources["step/dispatch"]) == (K3, K3)
    garbage = Manual.of(doc).rule("matter", "06010")  # 暴露垃圾: the county's default, 30 from above
    assert (garbage.file, garbage.dispatch) == (Limit.parse("20wmin"), Limit.parse("30wmin"))


def test_a_case_pins_the_filing_and_dispatch_limits_with_their_setter() -> None:
    rule = Manual.of(manual_doc(Layer(K3, {ROAD_DISPATCH: "15wmin"}))).rule("matter", "06012")
    limits = pinned_limits(rule, "normal", calendar_doc())
    assert (limits["file"], limits["dispatch"], limits["verify"]) == ("30wmin", "15wmin", "1wh")
    assert limits["set_by"]["step/dispatch"] == "341522 v3"  # type: ignore[index]
    assert limits["set_by"]["step/file"] == "340000 v1"  # type: ignore[index]


def test_a_manual_published_before_these_limits_pins_none() -> None:
    rule = Manual.of(manual_doc(without=(FILE, DISPATCH))).rule("matter", "06012")
    assert rule.file is None and rule.dispatch is None
    limits = pinned_limits(rule, "normal", calendar_doc())
    assert "file" not in limits and "dispatch" not in limits
    case = CaseRow(limits=limits)
    assert step_due(case, "file", at(2, 9), calendar_of(calendar_doc())) == {}  # not timed


@pytest.mark.parametrize(
    ("limit", "start", "due"),
    [
        ("30wmin", at(2, 9), at(2, 9, 30)),
        ("30wmin", at(2, 11, 50), at(2, 13, 50)),  # 10 minutes before lunch, 20 after
        ("30wmin", at(6, 17, 20), at(9, 8, 50)),  # Friday evening → Monday morning
        ("30wmin", at(7, 10), at(9, 9)),  # reported on Saturday: counted from Monday 08:30
        ("30min", at(7, 10), at(7, 10, 30)),  # natural time runs at the weekend
    ],
)
def test_the_step_deadline_is_counted_in_working_time(limit: str, start: datetime, due: datetime) -> None:
    case = CaseRow(limits={"file": limit, "dispatch": limit})
    calendar = calendar_of(calendar_doc())
    assert step_due(case, "file", start, calendar) == {"due_at": due.isoformat()}
    assert step_due(case, "dispatch", start, calendar) == {"due_at": due.isoformat()}

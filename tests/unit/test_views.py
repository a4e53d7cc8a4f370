"""Typed views of effective documents (``tenants/standards/views.py``) on the real province baseline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from tenants.errors import NotFound
from tenants.standards import baseline
from tenants.standards.layers import Effective, Layer, Source, fold, validate_layer
from tenants.standards.paths import Kind
from tenants.standards.seeding import province_baseline
from tenants.standards.views import ClassRule, Manual, calendar_of, limit_at
from tenants.standards.worktime import SHANGHAI, Limit, Unit, WorkCalendar, deadline

P1, C2, K3 = Source("320000", 1), Source("320400", 2), Source("320411", 3)


@cache
def _baseline() -> dict[Kind, dict[str, Any]]:
    return province_baseline()


def manual_doc(*lower: Layer) -> Effective:
    """A fresh fold (so a fresh view cache) of the province baseline manual and ``lower`` layers."""
    return fold(Kind.MANUAL, [Layer(P1, _baseline()[Kind.MANUAL]), *lower])


def calendar_doc(*lower: Layer) -> Effective:
    return fold(Kind.CALENDAR, [Layer(P1, _baseline()[Kind.CALENDAR]), *lower])


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


# --- Manual.rule on the baseline --------------------------------------------------------------------


def test_road_not_clean_06012() -> None:
    data = baseline.manual_layer()
    assert data["manual/matter/06012/limit/normal"] == "5wh"  # the baseline row (KEYWORD_ROWS 道路不洁)
    assert data["manual/matter/06012/limit/urgent"] == "2wh"
    rule = Manual.of(manual_doc()).rule("matter", "06012")
    assert isinstance(rule, ClassRule)
    assert (rule.kind, rule.code) == ("matter", "06012")
    assert rule.limits == {
        "normal": Limit(Decimal(5), Unit.WORKING_HOURS),
        "urgent": Limit(Decimal(2), Unit.WORKING_HOURS),
    }
    assert str(rule.limits["normal"]) == "5wh"
    assert rule.responsible == "territory_first"
    assert rule.filing == "现场出现道路不洁问题，影响市容环境或公共安全"
    assert rule.closing == "道路不洁问题已清理整治到位，现场恢复整洁有序"
    assert rule.stages == []
    # no own steps or duplicate rule: those come from manual/default
    assert rule.verify == rule.check == Limit.parse(baseline.DEFAULT["step/verify"]) == Limit.parse("1wh")
    assert rule.duplicate_radius_m == 50.0
    assert rule.duplicate_window == Limit.parse("3wd")


def test_illegal_construction_06001_is_staged_and_goes_to_enforcement() -> None:
    rule = Manual.of(manual_doc()).rule("matter", "06001")
    assert _baseline()[Kind.CATALOG]["catalog/matter/06001/name"] == "私搭乱建"
    assert [name for name, _ in rule.stages] == ["责令停工", "立案处罚", "拆除"]
    assert rule.stages == [
        ("责令停工", Limit.parse("4wh")),
        ("立案处罚", Limit.parse("7wd")),
        ("拆除", Limit.parse("15wd")),
    ]
    assert rule.responsible == "sector:城管执法"
    assert rule.limits == {"normal": Limit.parse("15wd"), "urgent": Limit.parse("10wd")}
    assert rule.stages[-1][1] == rule.limits["normal"]


def test_street_order_09001_has_quick_steps_and_a_short_duplicate_window() -> None:
    rule = Manual.of(manual_doc()).rule("matter", "09001")
    assert rule.limits == {"normal": Limit.parse("4wh"), "urgent": Limit.parse("2wh")}
    assert rule.verify == rule.check == Limit.parse("30wmin")
    assert rule.duplicate_window == Limit.parse("1wd")


def test_components_go_to_their_owner_first() -> None:
    rule = Manual.of(manual_doc()).rule("component", "01001")
    assert rule.responsible == "owner_first"
    assert rule.limits == {"normal": Limit.parse("24h"), "urgent": Limit.parse("2h")}
    assert rule.verify == Limit.parse("30min")


def test_levels_are_the_urgency_labels() -> None:
    assert Manual.of(manual_doc()).levels == {"normal": "一般", "urgent": "紧急"}


def test_sources_record_which_layer_set_each_field() -> None:
    city = Layer(C2, {"manual/matter/06012/limit/normal": "4wh", "manual/default/step/verify": "45wmin"})
    county = Layer(K3, {"manual/matter/06012/filing": "区级立案条件"})
    rule = Manual.of(manual_doc(city, county)).rule("matter", "06012")
    assert rule.limits["normal"] == Limit.parse("4wh")
    assert rule.verify == Limit.parse("45wmin")  # from the city's default
    assert rule.check == Limit.parse("1wh")  # from the province's default
    assert rule.filing == "区级立案条件"
    assert rule.sources == {
        "filing": K3,
        "closing": P1,
        "responsible": P1,
        "step/verify": C2,
        "step/check": P1,
        "step/file": P1,
        "step/dispatch": P1,
        "duplicate/radius_m": P1,
        "duplicate/window": P1,
        "limit/normal": C2,
        "limit/urgent": P1,
    }


def test_stage_sources() -> None:
    city = Layer(C2, {"manual/matter/06001/stage/2/limit": "5wd"})
    rule = Manual.of(manual_doc(city)).rule("matter", "06001")
    assert rule.stages[1] == ("立案处罚", Limit.parse("5wd"))
    assert rule.sources["stage/2/limit"] == C2
    assert rule.sources["stage/2/name"] == P1
    assert rule.sources["stage/3/limit"] == P1


def test_a_removed_class_value_falls_back_to_the_default() -> None:
    city = Layer(C2, removed=frozenset({"manual/matter/06012/limit/urgent"}))
    doc = manual_doc(city)
    rule = Manual.of(doc).rule("matter", "06012")
    assert rule.limits == {
        "normal": Limit.parse("5wh"),
        "urgent": Limit.parse(baseline.DEFAULT["limit/urgent"]),
    }
    assert rule.limits["urgent"] == Limit.parse("4wh")
    assert rule.sources["limit/urgent"] == P1


# --- local sub-items, legacy codes and unknown codes ------------------------------------------------


def test_a_local_sub_item_inherits_from_its_class_and_overrides_its_own_limit() -> None:
    city = Layer(C2, {"manual/matter/06012-01/limit/normal": "3wh"})
    doc = manual_doc(city)
    assert validate_layer(C2.code, city, manual_doc(), Kind.MANUAL) == []
    rule = Manual.of(doc).rule("matter", "06012-01")
    parent = Manual.of(doc).rule("matter", "06012")
    assert (rule.kind, rule.code) == ("matter", "06012-01")
    assert rule.limits == {"normal": Limit.parse("3wh"), "urgent": Limit.parse("2wh")}
    assert rule.filing == parent.filing == "现场出现道路不洁问题，影响市容环境或公共安全"
    assert rule.closing == parent.closing
    assert rule.responsible == "territory_first"
    assert rule.verify == Limit.parse("1wh")  # neither sets it: manual/default
    assert rule.sources["limit/normal"] == C2
    assert rule.sources["limit/urgent"] == P1
    assert rule.sources["filing"] == P1
    assert parent.limits["normal"] == Limit.parse("5wh")  # the class itself is unchanged


def test_a_sub_item_of_a_staged_class_inherits_the_stages() -> None:
    county = Layer(
        K3,
        {"manual/matter/06001-02/stage/1/limit": "2wh", "manual/matter/06001-02/responsible": "sector:规划"},
    )
    rule = Manual.of(manual_doc(county)).rule("matter", "06001-02")
    assert rule.stages == [
        ("责令停工", Limit.parse("2wh")),
        ("立案处罚", Limit.parse("7wd")),
        ("拆除", Limit.parse("15wd")),
    ]
    assert rule.responsible == "sector:规划"
    assert rule.sources["stage/1/limit"] == K3
    assert rule.sources["stage/1/name"] == P1


def test_a_sub_item_without_own_entries_is_its_class() -> None:
    """A sub-item added only to the catalogue has no manual entries: every field is its class's."""
    doc = manual_doc()
    rule = Manual.of(doc).rule("matter", "06012-07")
    parent = Manual.of(doc).rule("matter", "06012")
    assert rule.code == "06012-07"
    assert rule.limits == parent.limits == {"normal": Limit.parse("5wh"), "urgent": Limit.parse("2wh")}
    assert rule.filing == parent.filing


def test_a_legacy_code_follows_its_crosswalk_target() -> None:
    assert _baseline()[Kind.CATALOG]["catalog/component/0102/maps_to"] == "01002"
    doc = manual_doc()
    rule = Manual.of(doc).rule("component", "0102", maps_to="01002")
    target = Manual.of(doc).rule("component", "01002")
    assert (rule.kind, rule.code) == ("component", "0102")
    assert rule.filing == target.filing == "污水井盖缺失、破损、移位或高差明显，危及行人车辆安全"
    assert rule.limits == target.limits == {"normal": Limit.parse("24h"), "urgent": Limit.parse("2h")}
    assert rule.responsible == "owner_first"


def test_a_legacy_code_with_own_entries_overrides_its_target() -> None:
    city = Layer(C2, {"manual/component/0102/limit/normal": "12h"})
    rule = Manual.of(manual_doc(city)).rule("component", "0102", maps_to="01002")
    assert rule.limits == {"normal": Limit.parse("12h"), "urgent": Limit.parse("2h")}
    assert rule.sources["limit/normal"] == C2


@pytest.mark.parametrize(
    ("kind", "code"),
    [("matter", "99999"), ("matter", "0102"), ("component", "06012"), ("event", "06012"), ("matter", "9999")],
)
def test_an_unknown_code_without_fallback_is_not_found(kind: str, code: str) -> None:
    """A code with no entries of its own, no parent class and no crosswalk target has no rule,
    even though manual/default could fill every field."""
    manual = Manual.of(manual_doc())
    with pytest.raises(NotFound, match=f"no disposal rule for {kind} {code}"):
        manual.rule(kind, code)
    with pytest.raises(NotFound):  # not cached as something else
        manual.rule(kind, code)


def test_a_local_class_with_one_own_entry_takes_the_rest_from_the_default() -> None:
    city = Layer(C2, {"manual/matter/06099/limit/normal": "2wd"})
    rule = Manual.of(manual_doc(city)).rule("matter", "06099")
    assert rule.limits == {"normal": Limit.parse("2wd"), "urgent": Limit.parse("4wh")}
    assert rule.filing == baseline.DEFAULT["filing"]
    assert rule.responsible == "territory_first"
    assert rule.duplicate_radius_m == 50.0
    assert rule.sources["limit/normal"] == C2
    assert rule.sources["limit/urgent"] == P1


@pytest.mark.parametrize(
    ("code", "maps_to"), [("99999-01", None), ("0199", "99999")], ids=["orphan-sub-item", "dangling-maps-to"]
)
def test_an_unknown_code_is_not_found_even_with_a_fallback_link(code: str, maps_to: str | None) -> None:
    with pytest.raises(NotFound):
        Manual.of(manual_doc()).rule("matter", code, maps_to=maps_to)


def test_the_rule_cache_respects_maps_to() -> None:
    manual = Manual.of(manual_doc())
    first = manual.rule("component", "0102", maps_to="01001")
    assert first.filing.startswith("供水井盖")
    second = manual.rule("component", "0102", maps_to="01002")
    assert second.filing.startswith("污水井盖")


def test_manual_needs_the_manual_document() -> None:
    with pytest.raises(ValueError, match="manual view needs the manual document"):
        Manual.of(calendar_doc())


# --- caching ------------------------------------------------------------------------------------------


def test_the_view_and_its_rules_are_cached_on_the_document() -> None:
    doc = manual_doc()
    view = Manual.of(doc)
    assert Manual.of(doc) is view
    assert doc.views["manual"] is view
    first = view.rule("matter", "06012")
    assert view.rule("matter", "06012") is first
    assert Manual.of(doc).rule("matter", "06012") is first
    other = manual_doc()
    assert Manual.of(other) is not view
    assert Manual.of(other).rule("matter", "06012") is not first
    assert Manual.of(other).rule("matter", "06012") == first


def test_a_new_fold_sees_a_changed_layer() -> None:
    before = Manual.of(manual_doc()).rule("matter", "06012")
    after = Manual.of(manual_doc(Layer(C2, {"manual/matter/06012/limit/normal": "3wh"}))).rule(
        "matter", "06012"
    )
    assert before.limits["normal"] == Limit.parse("5wh")
    assert after.limits["normal"] == Limit.parse("3wh")


# --- calendar_of ----------------------------------------------------------------------------------------


def test_baseline_calendar_spring_festival_2026() -> None:
    calendar = calendar_of(calendar_doc())
    assert isinstance(calendar, WorkCalendar)
    assert calendar.tz == SHANGHAI
    assert calendar.hours == ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
    assert calendar.day_length == timedelta(hours=7, minutes=30)
    assert date(2026, 2, 14).weekday() == 5  # a Saturday ...
    assert calendar.is_working_day(date(2026, 2, 14))  # ... made up for 春节 (调休上班)
    assert date(2026, 2, 16).weekday() == 0  # a Monday ...
    assert not calendar.is_working_day(date(2026, 2, 16))  # ... in the 春节 holiday
    assert calendar.is_working_day(date(2026, 2, 28))  # Saturday, 调休
    assert not calendar.is_working_day(date(2026, 2, 21))  # Saturday in the holiday
    assert calendar.is_working_day(date(2026, 2, 24))  # Tuesday after the holiday
    assert not calendar.is_working_day(date(2026, 3, 7))  # an ordinary Saturday
    assert calendar.is_working_day(date(2026, 3, 9))  # an ordinary Monday
    assert date(2026, 2, 14) in calendar.workdays
    assert date(2026, 2, 14) not in calendar.holidays
    assert {date(2026, 2, d) for d in range(15, 24)} <= calendar.holidays
    assert calendar.closures == ()


def test_deadlines_on_the_baseline_calendar_skip_the_holiday() -> None:
    calendar = calendar_of(calendar_doc())
    # Friday 16:30 + 5wh: 1 h on Friday, 3.5 h Saturday morning (调休), 0.5 h from 13:30
    assert deadline(at(date(2026, 2, 13), 16, 30), Limit.parse("5wh"), calendar) == at(date(2026, 2, 14), 14)
    # Saturday 17:00 + 1wh: 0.5 h on Saturday, then nothing until Tuesday 24 February
    assert deadline(at(date(2026, 2, 14), 17), Limit.parse("1wh"), calendar) == at(date(2026, 2, 24), 9)


def test_a_county_closure_appears_in_closures() -> None:
    closure = {"from": "2026-07-01T08:00:00+08:00", "to": "2026-07-02T18:00:00+08:00", "reason": "防汛应急"}
    county = Layer(K3, {"calendar/closure/flood-2026": closure})
    assert validate_layer(K3.code, county, calendar_doc(), Kind.CALENDAR) == []
    calendar = calendar_of(calendar_doc(Layer(C2), county))
    assert calendar.closures == ((at(date(2026, 7, 1), 8), at(date(2026, 7, 2), 18)),)
    # Wednesday 1 July 2026 is closed: 1wh from 08:30 runs on Friday (Thursday 2 July closed too)
    assert deadline(at(date(2026, 7, 1), 8, 30), Limit.parse("1wh"), calendar) == at(date(2026, 7, 3), 9, 30)
    assert calendar_of(calendar_doc()).closures == ()  # only the county's fold has it


def test_closures_are_sorted() -> None:
    late = {"from": "2026-08-03T09:00:00+08:00", "to": "2026-08-03T10:00:00+08:00", "reason": "停电"}
    early = {"from": "2026-08-01T09:00:00+08:00", "to": "2026-08-01T10:00:00+08:00", "reason": "停水"}
    county = Layer(K3, {"calendar/closure/a-late": late, "calendar/closure/b-early": early})
    calendar = calendar_of(calendar_doc(county))
    assert [begin.day for begin, _ in calendar.closures] == [1, 3]


def test_local_calendar_changes() -> None:
    city = Layer(
        C2,
        {
            "calendar/hours": [["09:00", "12:00"], ["14:00", "18:00"]],
            "calendar/holiday/2026-03-09": "地方节日",
        },
        removed=frozenset({"calendar/workday/2026-02-28"}),
    )
    calendar = calendar_of(calendar_doc(city))
    assert calendar.hours == ((time(9), time(12)), (time(14), time(18)))
    assert calendar.day_length == timedelta(hours=7)
    assert not calendar.is_working_day(date(2026, 3, 9))
    assert not calendar.is_working_day(date(2026, 2, 28))  # the make-up day removed: a Saturday again
    assert calendar.is_working_day(date(2026, 2, 14))


def test_a_local_workday_overrides_a_national_holiday() -> None:
    county = Layer(K3, {"calendar/workday/2026-02-16": "值守"})
    calendar = calendar_of(calendar_doc(county))
    assert calendar.is_working_day(date(2026, 2, 16))
    assert date(2026, 2, 16) not in calendar.holidays


def test_calendar_view_is_cached_on_the_document() -> None:
    doc = calendar_doc()
    calendar = calendar_of(doc)
    assert calendar_of(doc) is calendar
    assert doc.views["calendar"] is calendar
    assert calendar_of(calendar_doc()) is not calendar


def test_calendar_of_needs_the_calendar_document() -> None:
    with pytest.raises(ValueError, match="calendar view needs the calendar document"):
        calendar_of(manual_doc())


# --- limit_at --------------------------------------------------------------------------------------------


def test_urgent_limits_count_in_natural_time() -> None:
    cal = calendar_doc()
    assert cal.value("calendar/natural_time") == ["urgent"]
    rule = Manual.of(manual_doc()).rule("matter", "06012")
    assert limit_at(rule, "urgent", cal) == Limit(Decimal(2), Unit.HOURS)
    assert str(limit_at(rule, "urgent", cal)) == "2h"
    assert limit_at(rule, "normal", cal) == Limit(Decimal(5), Unit.WORKING_HOURS)


@pytest.mark.parametrize(
    ("kind", "code", "urgent", "natural"),
    [
        ("matter", "06001", "10wd", "10d"),  # working days become days
        ("matter", "09001", "2wh", "2h"),
        ("component", "01001", "2h", "2h"),  # already natural: unchanged
    ],
)
def test_natural_units(kind: str, code: str, urgent: str, natural: str) -> None:
    rule = Manual.of(manual_doc()).rule(kind, code)
    assert rule.limits["urgent"] == Limit.parse(urgent)
    assert limit_at(rule, "urgent", calendar_doc()) == Limit.parse(natural)


def test_working_minutes_become_minutes() -> None:
    city = Layer(C2, {"manual/matter/06012/limit/urgent": "90wmin"})
    rule = Manual.of(manual_doc(city)).rule("matter", "06012")
    assert limit_at(rule, "urgent", calendar_doc()) == Limit(Decimal(90), Unit.MINUTES)


def test_a_calendar_may_add_levels_to_natural_time() -> None:
    rule = Manual.of(manual_doc()).rule("matter", "06012")
    both = calendar_doc(Layer(C2, {"calendar/natural_time": ["urgent", "normal"]}))
    assert limit_at(rule, "normal", both) == Limit.parse("5h")
    assert limit_at(rule, "urgent", both) == Limit.parse("2h")


def test_without_natural_time_every_limit_stays_working() -> None:
    rule = Manual.of(manual_doc()).rule("matter", "06012")
    none = calendar_doc(Layer(C2, removed=frozenset({"calendar/natural_time"})))
    assert none.value("calendar/natural_time") is None
    assert limit_at(rule, "urgent", none) == Limit.parse("2wh")
    empty = calendar_doc(Layer(C2, {"calendar/natural_time": []}))
    assert limit_at(rule, "urgent", empty) == Limit.parse("2wh")


def test_an_unknown_level_is_not_found() -> None:
    rule = Manual.of(manual_doc()).rule("matter", "06012")
    with pytest.raises(NotFound, match="matter 06012 has no limit for urgency 'critical'"):
        limit_at(rule, "critical", calendar_doc())


def test_a_new_urgency_level_needs_a_label_to_count() -> None:
    """Limits are read for the levels of manual/urgency only."""
    unlabelled = Layer(C2, {"manual/default/limit/critical": "1wh"})
    assert "critical" not in Manual.of(manual_doc(unlabelled)).rule("matter", "06012").limits
    labelled = Layer(C2, {"manual/default/limit/critical": "1wh", "manual/urgency/critical": "特急"})
    rule = Manual.of(manual_doc(labelled)).rule("matter", "06012")
    assert rule.limits["critical"] == Limit.parse("1wh")
    assert limit_at(rule, "critical", calendar_doc()) == Limit.parse("1wh")

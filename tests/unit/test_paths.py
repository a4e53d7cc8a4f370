"""The path grammar of standards entries (``tenants/standards/paths.py``): pure checks, no database."""

from __future__ import annotations

from typing import Any

import pytest

from tenants.standards.paths import Kind, Order, check_entry, rule_for
from tenants.standards.seeding import province_baseline

UNKNOWN = "unknown path: see the path grammar in docs/standards.md"


@pytest.mark.parametrize("kind", list(Kind))
def test_every_baseline_entry_passes_the_grammar(kind: Kind) -> None:
    layer = province_baseline()[kind]
    assert len(layer) > 0
    bad = {path: why for path, value in layer.items() if (why := check_entry(kind, path, value))}
    assert bad == {}


def test_baseline_covers_every_kind() -> None:
    assert set(province_baseline()) == set(Kind)


VALID: list[tuple[Kind, str, Any]] = [
    # catalog
    (Kind.CATALOG, "catalog/edition", "gbt47678_5"),
    (Kind.CATALOG, "catalog/edition", "gbt30428"),
    (Kind.CATALOG, "catalog/matter/06/name", "市容环境"),
    (Kind.CATALOG, "catalog/component/01001/name", "上水井盖"),
    (Kind.CATALOG, "catalog/component/0101/name", "上水井盖"),
    (Kind.CATALOG, "catalog/matter/06012/name", "道路不洁"),
    (Kind.CATALOG, "catalog/matter/06012-01/name", "人行道不洁"),
    (Kind.CATALOG, "catalog/matter/0601/maps_to", "06012"),
    (Kind.CATALOG, "catalog/component/0101/maps_to", "01001"),
    (Kind.CATALOG, "catalog/matter/06012/name", "字" * 64),
    # manual
    (Kind.MANUAL, "manual/urgency/normal", "一般"),
    (Kind.MANUAL, "manual/urgency/very_urgent2", "特急"),
    (Kind.MANUAL, "manual/matter/06012/filing", "现场出现道路不洁问题"),
    (Kind.MANUAL, "manual/matter/06012-01/closing", "已清理"),
    (Kind.MANUAL, "manual/default/filing", "问题真实存在"),
    (Kind.MANUAL, "manual/matter/06012/responsible", "owner_first"),
    (Kind.MANUAL, "manual/matter/06012/responsible", "territory_first"),
    (Kind.MANUAL, "manual/matter/06012/responsible", "sector:环卫"),
    (Kind.MANUAL, "manual/default/responsible", "sector:城管执法"),
    (Kind.MANUAL, "manual/matter/06012/limit/normal", "5wh"),
    (Kind.MANUAL, "manual/matter/06012/limit/urgent", "1.5wd"),
    (Kind.MANUAL, "manual/component/01001/limit/urgent", "24h"),
    (Kind.MANUAL, "manual/component/0101/limit/normal", "30wmin"),
    (Kind.MANUAL, "manual/default/limit/normal", "0wh"),
    (Kind.MANUAL, "manual/matter/06001/stage/1/name", "责令停工"),
    (Kind.MANUAL, "manual/matter/06001/stage/1/limit", "4wh"),
    (Kind.MANUAL, "manual/matter/06001/stage/12/limit", "15wd"),
    (Kind.MANUAL, "manual/matter/06012/step/verify", "1wh"),
    (Kind.MANUAL, "manual/matter/06012/step/check", "30min"),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", 50),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", 0),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", 5000),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", 12.5),
    (Kind.MANUAL, "manual/matter/06012/duplicate/window", "3wd"),
    # assessment
    (Kind.ASSESSMENT, "assessment/department/weight/volume", 0),
    (Kind.ASSESSMENT, "assessment/department/weight/volume", 100),
    (Kind.ASSESSMENT, "assessment/supervisor/weight/missed_report_rate", 20.5),
    (Kind.ASSESSMENT, "assessment/region/grade/A", 90),
    (Kind.ASSESSMENT, "assessment/region/grade/D", 0),
    (Kind.ASSESSMENT, "assessment/department/volume_steps", [[200, 100], [50, 60], [0, 0]]),
    (Kind.ASSESSMENT, "assessment/options/rework_denominator", "disposed"),
    (Kind.ASSESSMENT, "assessment/options/ontime_closing_denominator", "due_to_close_minus_deferred"),
    # calendar
    (Kind.CALENDAR, "calendar/timezone", "Asia/Shanghai"),
    (Kind.CALENDAR, "calendar/hours", [["08:30", "12:00"], ["13:30", "17:30"]]),
    (Kind.CALENDAR, "calendar/hours", [["08:00", "12:00"], ["12:00", "17:00"]]),  # touching is fine
    (Kind.CALENDAR, "calendar/hours", [["09:00", "17:00"]]),
    (Kind.CALENDAR, "calendar/holiday/2026-02-16", "春节"),
    (Kind.CALENDAR, "calendar/holiday/2028-02-29", "闰日"),
    (Kind.CALENDAR, "calendar/workday/2026-02-14", "春节"),
    (
        Kind.CALENDAR,
        "calendar/closure/flood-2026_07",
        {"from": "2026-07-01T08:00:00+08:00", "to": "2026-07-02T18:00:00+08:00", "reason": "防汛"},
    ),
    (Kind.CALENDAR, "calendar/natural_time", ["urgent"]),
    (Kind.CALENDAR, "calendar/natural_time", []),
    (Kind.CALENDAR, "calendar/natural_time", ["urgent", "very_urgent"]),
]


@pytest.mark.parametrize(("kind", "path", "value"), VALID, ids=[f"{p}={v!r}" for _, p, v in VALID])
def test_valid_entries(kind: Kind, path: str, value: Any) -> None:
    assert check_entry(kind, path, value) is None
    assert rule_for(path) is not None


LIMIT_HINT = "is not a time limit"
HOURS_BAD = 'must be working periods such as [["08:30", "12:00"], ["13:30", "17:30"]], in order'
CLOSURE_BAD = 'must be {"from": ISO datetime with offset, "to": later ISO datetime, "reason": text}'
RESPONSIBLE_BAD = 'must be "owner_first", "territory_first" or "sector:<department type>"'
STEPS_BAD = "must be [[at_least, score], …] with counts descending and scores from 0 to 100"
LEVELS_BAD = "must be a list of distinct urgency level names"

INVALID_VALUES: list[tuple[Kind, str, Any, str]] = [
    # catalog
    (Kind.CATALOG, "catalog/edition", "gbt2026", "must be one of gbt47678_5, gbt30428"),
    (Kind.CATALOG, "catalog/matter/06012/name", "", "must be non-empty text"),
    (Kind.CATALOG, "catalog/matter/06012/name", "   ", "must be non-empty text"),
    (Kind.CATALOG, "catalog/matter/06012/name", 6012, "must be non-empty text"),
    (Kind.CATALOG, "catalog/matter/06012/name", "字" * 65, "must be at most 64 characters"),
    (Kind.CATALOG, "catalog/matter/0601/maps_to", "0601", "must be a five-digit GB/T 47678.5 code"),
    (Kind.CATALOG, "catalog/matter/0601/maps_to", "060120", "must be a five-digit GB/T 47678.5 code"),
    (Kind.CATALOG, "catalog/matter/0601/maps_to", "06012-01", "must be a five-digit GB/T 47678.5 code"),
    (Kind.CATALOG, "catalog/matter/0601/maps_to", "0601a", "must be a five-digit GB/T 47678.5 code"),
    (Kind.CATALOG, "catalog/matter/0601/maps_to", 6012, "must be a five-digit GB/T 47678.5 code"),
    # manual
    (Kind.MANUAL, "manual/matter/06012/limit/normal", "5 wh", LIMIT_HINT),
    (Kind.MANUAL, "manual/matter/06012/limit/normal", "-1wh", LIMIT_HINT),
    (Kind.MANUAL, "manual/matter/06012/limit/normal", "5hours", LIMIT_HINT),
    (Kind.MANUAL, "manual/matter/06012/limit/normal", "", LIMIT_HINT),
    (
        Kind.MANUAL,
        "manual/matter/06012/limit/normal",
        5,
        'must be a time limit such as "2wh", "1wd", "30wmin" or "24h"',
    ),
    (Kind.MANUAL, "manual/matter/06001/stage/1/limit", "soon", LIMIT_HINT),
    (Kind.MANUAL, "manual/matter/06001/stage/1/name", "", "must be non-empty text"),
    (Kind.MANUAL, "manual/matter/06001/stage/1/name", "停" * 33, "must be at most 32 characters"),
    (Kind.MANUAL, "manual/matter/06012/step/verify", "1 hour", LIMIT_HINT),
    (Kind.MANUAL, "manual/matter/06012/duplicate/window", "3 days", LIMIT_HINT),
    (Kind.MANUAL, "manual/matter/06012/responsible", "sector:", RESPONSIBLE_BAD),
    (Kind.MANUAL, "manual/matter/06012/responsible", "sector:   ", RESPONSIBLE_BAD),
    (Kind.MANUAL, "manual/matter/06012/responsible", "sector:" + "环" * 33, RESPONSIBLE_BAD),
    (Kind.MANUAL, "manual/matter/06012/responsible", "环卫", RESPONSIBLE_BAD),
    (Kind.MANUAL, "manual/matter/06012/responsible", "owner", RESPONSIBLE_BAD),
    (Kind.MANUAL, "manual/matter/06012/responsible", None, RESPONSIBLE_BAD),
    (Kind.MANUAL, "manual/matter/06012/filing", "条" * 501, "must be at most 500 characters"),
    (Kind.MANUAL, "manual/urgency/urgent", "紧" * 17, "must be at most 16 characters"),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", 5001, "must be a number from 0 to 5000"),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", -1, "must be a number from 0 to 5000"),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", "50", "must be a number from 0 to 5000"),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius_m", True, "must be a number from 0 to 5000"),
    # assessment
    (Kind.ASSESSMENT, "assessment/department/weight/volume", 101, "must be a number from 0 to 100"),
    (Kind.ASSESSMENT, "assessment/department/weight/volume", -1, "must be a number from 0 to 100"),
    (Kind.ASSESSMENT, "assessment/department/weight/volume", "10", "must be a number from 0 to 100"),
    (Kind.ASSESSMENT, "assessment/department/weight/volume", False, "must be a number from 0 to 100"),
    (Kind.ASSESSMENT, "assessment/department/weight/volume", float("nan"), "must be a number from 0 to 100"),
    (Kind.ASSESSMENT, "assessment/region/grade/A", 100.5, "must be a number from 0 to 100"),
    (Kind.ASSESSMENT, "assessment/department/volume_steps", [], STEPS_BAD),
    (Kind.ASSESSMENT, "assessment/department/volume_steps", [[0, 0], [50, 60]], STEPS_BAD),  # ascending
    (Kind.ASSESSMENT, "assessment/department/volume_steps", [[50, 60], [50, 40]], STEPS_BAD),  # repeated
    (Kind.ASSESSMENT, "assessment/department/volume_steps", [[50, 101]], STEPS_BAD),
    (Kind.ASSESSMENT, "assessment/department/volume_steps", [[50, 60, 1]], STEPS_BAD),
    (
        Kind.ASSESSMENT,
        "assessment/options/rework_denominator",
        "closed",
        "must be one of due_to_close, disposed",
    ),
    # calendar
    (Kind.CALENDAR, "calendar/timezone", "Mars/Olympus", "must be an IANA time zone such as Asia/Shanghai"),
    (Kind.CALENDAR, "calendar/timezone", "", "must be an IANA time zone such as Asia/Shanghai"),
    (Kind.CALENDAR, "calendar/timezone", 8, "must be an IANA time zone such as Asia/Shanghai"),
    (Kind.CALENDAR, "calendar/hours", [], HOURS_BAD),
    (Kind.CALENDAR, "calendar/hours", [["13:30", "17:30"], ["08:30", "12:00"]], HOURS_BAD),  # out of order
    (Kind.CALENDAR, "calendar/hours", [["08:30", "12:00"], ["11:00", "17:30"]], HOURS_BAD),  # overlap
    (Kind.CALENDAR, "calendar/hours", [["12:00", "08:30"]], HOURS_BAD),  # ends before it begins
    (Kind.CALENDAR, "calendar/hours", [["08:30", "08:30"]], HOURS_BAD),  # empty
    (Kind.CALENDAR, "calendar/hours", [["08:30", "25:00"]], HOURS_BAD),
    (Kind.CALENDAR, "calendar/hours", [["08:30"]], HOURS_BAD),
    (Kind.CALENDAR, "calendar/hours", "08:30-17:30", HOURS_BAD),
    (Kind.CALENDAR, "calendar/holiday/2026-02-16", "", "must be non-empty text"),
    (Kind.CALENDAR, "calendar/holiday/2026-02-16", "节" * 33, "must be at most 32 characters"),
    (Kind.CALENDAR, "calendar/natural_time", ["urgent", "urgent"], LEVELS_BAD),
    (Kind.CALENDAR, "calendar/natural_time", ["Urgent"], LEVELS_BAD),
    (Kind.CALENDAR, "calendar/natural_time", "urgent", LEVELS_BAD),
]


@pytest.mark.parametrize(
    ("kind", "path", "value", "message"), INVALID_VALUES, ids=[f"{p}={v!r}" for _, p, v, _ in INVALID_VALUES]
)
def test_invalid_values(kind: Kind, path: str, value: Any, message: str) -> None:
    problem = check_entry(kind, path, value)
    assert problem is not None
    assert message in problem
    assert rule_for(path) is not None  # the path is fine: only the value is refused


_CLOSURE = {"from": "2026-07-01T08:00:00+08:00", "to": "2026-07-02T18:00:00+08:00", "reason": "防汛"}


@pytest.mark.parametrize(
    "value",
    [
        {**_CLOSURE, "from": "2026-07-01T08:00:00"},  # no offset
        {**_CLOSURE, "to": "2026-07-02T18:00:00"},  # no offset
        {**_CLOSURE, "from": "2026-07-03T08:00:00+08:00"},  # from after to
        {**_CLOSURE, "to": _CLOSURE["from"]},  # from == to
        {**_CLOSURE, "reason": ""},
        {**_CLOSURE, "reason": "因" * 201},
        {**_CLOSURE, "from": "yesterday"},
        {**_CLOSURE, "from": 1_700_000_000},
        {"from": _CLOSURE["from"], "to": _CLOSURE["to"]},  # no reason
        {**_CLOSURE, "by": "区政府"},  # an unknown key
        [_CLOSURE["from"], _CLOSURE["to"]],
    ],
    ids=[
        "naive-from",
        "naive-to",
        "from-after-to",
        "from-equals-to",
        "empty-reason",
        "long-reason",
        "bad-from",
        "number-from",
        "no-reason",
        "extra-key",
        "list",
    ],
)
def test_invalid_closures(value: Any) -> None:
    assert check_entry(Kind.CALENDAR, "calendar/closure/flood", value) == CLOSURE_BAD


def test_closure_offsets_may_differ() -> None:
    value = {"from": "2026-07-01T00:00:00+00:00", "to": "2026-07-01T08:00:00+08:00", "reason": "停电"}
    assert check_entry(Kind.CALENDAR, "calendar/closure/power", value) == CLOSURE_BAD  # the same instant
    value["to"] = "2026-07-01T08:00:01+08:00"  # one second later than the start, in UTC
    assert check_entry(Kind.CALENDAR, "calendar/closure/power", value) is None


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "2025-02-29", "2026-00-10", "2026-04-31"])
@pytest.mark.parametrize("kind_of_day", ["holiday", "workday"])
def test_calendar_day_must_be_a_real_date(kind_of_day: str, day: str) -> None:
    path = f"calendar/{kind_of_day}/{day}"
    assert rule_for(path) is not None  # the shape matches ...
    assert check_entry(Kind.CALENDAR, path, "春节") == "the last segment must be a real date YYYY-MM-DD"


UNKNOWN_PATHS: list[tuple[Kind, str, Any]] = [
    (Kind.CATALOG, "catalog/matter/06012-1/name", "x"),  # sub-item suffix is two digits
    (Kind.CATALOG, "catalog/matter/06012-001/name", "x"),
    (Kind.CATALOG, "catalog/matter/060120/name", "x"),
    (Kind.CATALOG, "catalog/matter/601/name", "x"),
    (Kind.CATALOG, "catalog/matter/6/name", "x"),
    (Kind.CATALOG, "catalog/event/06012/name", "x"),  # kind is component or matter
    (Kind.CATALOG, "catalog/matter/06012/maps_to", "06012"),  # only legacy (4-digit) codes map
    (Kind.CATALOG, "catalog/matter/06012/label", "x"),
    (Kind.CATALOG, "catalog/matter/06012", "x"),
    (Kind.CATALOG, "catalog/editions", "gbt30428"),
    (Kind.MANUAL, "manual/matter/06012/limit/Normal", "5wh"),  # levels are lower case
    (Kind.MANUAL, "manual/matter/06012/limit/1urgent", "5wh"),
    (Kind.MANUAL, "manual/matter/06012/limit", "5wh"),
    (Kind.MANUAL, "manual/matter/06012/stage/100/limit", "5wd"),
    (Kind.MANUAL, "manual/matter/06012/stage/1/deadline", "5wd"),
    (Kind.MANUAL, "manual/matter/06012/step/approve", "1wh"),
    (Kind.MANUAL, "manual/matter/06012/duplicate/radius", 50),
    (Kind.MANUAL, "manual/matter/06012/owner", "owner_first"),
    (Kind.MANUAL, "manual/defaults/filing", "x"),
    (Kind.MANUAL, "manual/urgency/Urgent", "紧急"),
    (Kind.ASSESSMENT, "assessment/department/weight/happiness", 10),  # unknown indicator
    (Kind.ASSESSMENT, "assessment/mayor/weight/volume", 10),  # unknown subject
    (Kind.ASSESSMENT, "assessment/department/grade/E", 0),  # E is below D, not set
    (Kind.ASSESSMENT, "assessment/department/grade/a", 90),
    (Kind.ASSESSMENT, "assessment/options/rounding", "half_even"),
    (Kind.CALENDAR, "calendar/holiday/2026-2-16", "春节"),
    (Kind.CALENDAR, "calendar/holiday/20260216", "春节"),
    (Kind.CALENDAR, "calendar/vacation/2026-02-16", "春节"),
    (Kind.CALENDAR, "calendar/closure/Flood", _CLOSURE),  # ids are lower case
    (Kind.CALENDAR, "calendar/closure/-flood", _CLOSURE),
    (Kind.CALENDAR, "calendar/closure/" + "a" * 33, _CLOSURE),
    (Kind.CALENDAR, "calendar/closure", _CLOSURE),
    (Kind.CALENDAR, "calendar/natural", ["urgent"]),
]


@pytest.mark.parametrize(("kind", "path", "value"), UNKNOWN_PATHS, ids=[p for _, p, _ in UNKNOWN_PATHS])
def test_unknown_paths(kind: Kind, path: str, value: Any) -> None:
    assert rule_for(path) is None
    assert check_entry(kind, path, value) == UNKNOWN


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        (Kind.MANUAL, "catalog/edition", "gbt30428"),
        (Kind.CATALOG, "manual/matter/06012/limit/normal", "5wh"),
        (Kind.CALENDAR, "assessment/department/weight/volume", 10),
        (Kind.ASSESSMENT, "calendar/timezone", "Asia/Shanghai"),
        (Kind.MANUAL, "manualx/matter/06012/limit/normal", "5wh"),
        (Kind.MANUAL, "manual", "5wh"),
        (Kind.MANUAL, "/manual/matter/06012/limit/normal", "5wh"),
    ],
)
def test_path_must_start_with_its_kind(kind: Kind, path: str, value: Any) -> None:
    assert check_entry(kind, path, value) == f"paths of the {kind.value} document start with '{kind.value}/'"


@pytest.mark.parametrize(
    ("path", "order"),
    [
        ("manual/matter/06012/limit/normal", Order.SHRINK),
        ("manual/default/limit/urgent", Order.SHRINK),
        ("manual/matter/06001/stage/2/limit", Order.SHRINK),
        ("manual/matter/06012/step/verify", Order.SHRINK),
        ("manual/matter/06012/duplicate/window", Order.NONE),
        ("manual/matter/06012/duplicate/radius_m", Order.NONE),
        ("manual/matter/06012/filing", Order.NONE),
        ("manual/matter/06012/responsible", Order.NONE),
        ("catalog/matter/06012/name", Order.NONE),
        ("assessment/department/weight/volume", Order.NONE),
        ("calendar/natural_time", Order.GROW),
        ("calendar/hours", Order.NONE),
        ("calendar/holiday/2026-02-16", Order.NONE),
    ],
)
def test_rule_orders(path: str, order: Order) -> None:
    rule = rule_for(path)
    assert rule is not None
    assert rule.order is order


def test_prefixes_are_not_leaves() -> None:
    for path in (
        "manual",
        "manual/matter",
        "manual/matter/06012",
        "calendar/holiday",
        "assessment/department",
    ):
        assert rule_for(path) is None


def test_kind_labels() -> None:
    assert [k.label for k in Kind] == ["部件事件分类", "处置手册", "评价规则", "工作日历", "接入模板"]

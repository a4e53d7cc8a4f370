"""Assessment formulas (``citylead.assessment``): pure, no database. Every number is worked by hand.

Rules come from the province baseline (``assessment_layer``, 320000 v1) folded with, where a test
says so, a city layer (320400 常州 v2). Scores are exact fractions, so 90 means exactly 90.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citylead.assessment import (
    FORMULAS,
    Assessment,
    Counters,
    Options,
    Rate,
    assess,
    grade_of,
    indicator,
    score,
    volume_score,
)
from tenants.errors import InvalidInput
from tenants.standards.baseline import VOLUME_STEPS, assessment_layer
from tenants.standards.layers import Effective, Layer, Source, fold, validate_layer
from tenants.standards.paths import INDICATORS, SUBJECTS, Kind

P1, C2 = Source("320000", 1), Source("320400", 2)
DISPOSED = Options(rework_denominator="disposed")
MINUS_DEFERRED = Options(ontime_closing_denominator="due_to_close_minus_deferred")


def rules(city: dict[str, Any] | None = None, removed: frozenset[str] = frozenset()) -> Effective:
    """The baseline (320000 v1), with a city layer (320400 v2) on top when given."""
    layers = [Layer(P1, assessment_layer())]
    if city is not None or removed:
        layers.append(Layer(C2, city or {}, removed=removed))
    return fold(Kind.ASSESSMENT, layers)


def rejected(exc: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {e.field: e.rule for e in exc.value.errors}


# --- one worked example per indicator ------------------------------------------------------------

# (indicator, options, counters, (numerator, denominator), score), each worked by hand
# fmt: off
WORKED: list[tuple[str, Options, dict[str, int], tuple[int, int], Fraction]] = [
    # 120 cases in the month; steps 200→100, 150→90, 100→75: 120 reaches 100 → 75
    ("volume", Options(), {"volume": 120}, (120, 1), Fraction(75)),
    # 处置率: disposed 45 of 50 due → 0.9 → 90
    ("disposal_rate", Options(), {"due_for_disposal": 50, "disposed": 45}, (45, 50), Fraction(90)),
    # 按期处置率: 40 on time of 50 due → 0.8 → 80
    ("ontime_disposal_rate", Options(), {"due_for_disposal": 50, "disposed_on_time": 40}, (40, 50),
     Fraction(80)),
    # 返工率 (national): 6 reworked of 40 due to close → 0.15 → (1 − 0.15) × 100 = 85
    ("rework_rate", Options(), {"due_to_close": 40, "disposed": 30, "rework": 6}, (6, 40), Fraction(85)),
    # 返工率 (some cities): 6 of 30 disposals rejected on check → 0.2 → (1 − 0.2) × 100 = 80
    ("rework_rate", DISPOSED, {"due_to_close": 40, "disposed": 30, "rework": 5, "reworked_disposals": 6},
     (6, 30), Fraction(80)),
    # 超期待处置率: 5 overdue and still pending of 50 due → 0.1 → 90
    ("overdue_pending_rate", Options(), {"due_for_disposal": 50, "overdue_pending": 5}, (5, 50),
     Fraction(90)),
    # 延期率: 2 postponed of 50 due → 0.04 → 96
    ("postpone_rate", Options(), {"due_for_disposal": 50, "postponed": 2}, (2, 50), Fraction(96)),
    # 结案率: 36 closed of 40 due to close → 0.9 → 90
    ("closing_rate", Options(), {"due_to_close": 40, "closed": 36}, (36, 40), Fraction(90)),
    # 按期结案率 (national): 30 closed on time of 40 → 0.75 → 75
    ("ontime_closing_rate", Options(), {"due_to_close": 40, "closed": 36, "closed_on_time": 30,
     "deferred_approved": 8, "deferred_closed_on_time": 2}, (30, 40), Fraction(75)),
    # 按期结案率 less approved deferrals: (30 − 2) / (40 − 8) = 28/32 = 0.875 → 87.5
    ("ontime_closing_rate", MINUS_DEFERRED, {"due_to_close": 40, "closed": 36, "closed_on_time": 30,
     "deferred_approved": 8, "deferred_closed_on_time": 2}, (28, 32), Fraction("87.5")),
    # 有效上报率: 57 valid of 60 reports → 0.95 → 95
    ("valid_report_rate", Options(), {"reports": 60, "valid_reports": 57}, (57, 60), Fraction(95)),
    # 漏报率: 3 reported first by the public of 50 filed → 0.06 → (1 − 0.06) × 100 = 94
    ("missed_report_rate", Options(), {"filed": 50, "missed_reports": 3}, (3, 50), Fraction(94)),
    # 按期核实率: 18 of 20 verifications on time → 0.9 → 90
    ("ontime_verify_rate", Options(), {"verify_due": 20, "verified_on_time": 18}, (18, 20), Fraction(90)),
    # 按期核查率: 24 of 30 checks on time → 0.8 → 80
    ("ontime_check_rate", Options(), {"check_due": 30, "checked_on_time": 24}, (24, 30), Fraction(80)),
    # 按时立案率: 47 of 50 filings on time → 0.94 → 94
    ("ontime_filing_rate", Options(), {"filed": 50, "filed_on_time": 47}, (47, 50), Fraction(94)),
    # 准确立案率: (50 filed − 4 voided) / 50 = 0.92 → 92
    ("accurate_filing_rate", Options(), {"filed": 50, "voided": 4}, (46, 50), Fraction(92)),
    # 按时派遣率: 38 of 40 dispatches on time → 0.95 → 95
    ("ontime_dispatch_rate", Options(), {"dispatched": 40, "dispatched_on_time": 38}, (38, 40),
     Fraction(95)),
    # 准确派遣率: (40 dispatched − 3 returned for a wrong unit) / 40 = 0.925 → 92.5
    ("accurate_dispatch_rate", Options(), {"dispatched": 40, "returned_wrong_unit": 3}, (37, 40),
     Fraction("92.5")),
]
# fmt: on


def test_every_indicator_has_a_formula_and_a_worked_example() -> None:
    assert set(FORMULAS) == set(INDICATORS)
    assert {row[0] for row in WORKED} == set(INDICATORS)
    assert len(INDICATORS) == 16


@pytest.mark.parametrize(
    ("name", "options", "counts", "fraction", "expected"),
    WORKED,
    ids=[f"{row[0]}-{row[1].rework_denominator}-{row[1].ontime_closing_denominator}" for row in WORKED],
)
def test_worked_example(
    name: str, options: Options, counts: dict[str, int], fraction: tuple[int, int], expected: Fraction
) -> None:
    rate = indicator(name, Counters(**counts), options)
    assert rate is not None
    assert (rate.numerator, rate.denominator) == fraction
    assert score(name, rate, VOLUME_STEPS) == expected


def test_each_rate_names_the_counters_behind_it() -> None:
    c = Counters(filed=50, voided=4, due_to_close=40, disposed=30, rework=6, deferred_approved=8, volume=3)
    labels = {
        ("accurate_filing_rate", Options()): ("filed − voided", "filed"),
        ("rework_rate", Options()): ("rework", "due_to_close"),
        ("rework_rate", DISPOSED): ("reworked_disposals", "disposed"),
        ("ontime_closing_rate", Options()): ("closed_on_time", "due_to_close"),
        ("ontime_closing_rate", MINUS_DEFERRED): (
            "closed_on_time − deferred_closed_on_time",
            "due_to_close − deferred_approved",
        ),
        ("volume", Options()): ("volume", ""),
    }
    for (name, options), expected in labels.items():
        rate = indicator(name, c, options)
        assert rate is not None
        assert (rate.numerator_of, rate.denominator_of) == expected


def test_the_options_change_only_their_own_indicator() -> None:
    counters = Counters(
        due_to_close=40, due_for_disposal=50, disposed=30, rework=6, closed_on_time=30, closed=36
    )
    for name in INDICATORS:
        if name not in ("rework_rate", "ontime_closing_rate"):
            assert indicator(name, counters, DISPOSED) == indicator(name, counters, MINUS_DEFERRED)
    # with no deferral the two 按期结案率 variants agree: 30/40 either way
    assert indicator("ontime_closing_rate", counters, MINUS_DEFERRED) == Rate(
        30, 40, "closed_on_time − deferred_closed_on_time", "due_to_close − deferred_approved"
    )


def test_rates_are_exact_and_rounded_only_for_display() -> None:
    rate = indicator("disposal_rate", Counters(due_for_disposal=3, disposed=2))
    assert rate is not None
    assert rate.value == Fraction(2, 3)
    assert rate.percent() == Decimal("66.67")
    assert rate.percent(4) == Decimal("66.6667")
    assert score("disposal_rate", rate) == Fraction(200, 3)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (250, 100),
        (200, 100),
        (199, 90),
        (150, 90),
        (149, 75),
        (100, 75),
        (50, 60),
        (49, 40),
        (20, 40),
        (19, 0),
        (0, 0),
    ],
)
def test_volume_steps_at_each_boundary(count: int, expected: int) -> None:
    assert volume_score(count, VOLUME_STEPS) == expected


def test_volume_below_the_last_step_scores_0_and_float_steps_are_read_as_written() -> None:
    assert volume_score(9, [[50, 80], [10, 50]]) == 0
    assert volume_score(10, [[50, 80], [10, 50]]) == 50
    assert volume_score(10, [[10.5, 99.5], [0, 10]]) == 10
    assert volume_score(11, [[10.5, 99.5], [0, 10]]) == Fraction(199, 2)


def test_volume_needs_steps() -> None:
    with pytest.raises(InvalidInput):
        score("volume", indicator("volume", Counters(volume=3)), None)


# --- zero denominators and inconsistent counters -------------------------------------------------


def test_every_rate_is_none_when_nothing_fell_due_and_volume_is_a_count_of_0() -> None:
    empty = Counters()
    for name in INDICATORS:
        for options in (Options(), DISPOSED, MINUS_DEFERRED):
            rate = indicator(name, empty, options)
            if name == "volume":
                assert rate == Rate(0, 1, "volume", "")
            else:
                assert rate is None, name
                assert score(name, rate) is None


def test_every_deferred_case_leaves_no_denominator() -> None:
    # 8 due to close, all 8 deferred: nothing left to judge on time under the minus-deferred option
    counters = Counters(
        due_to_close=8, closed=8, closed_on_time=8, deferred_approved=8, deferred_closed_on_time=8
    )
    assert indicator("ontime_closing_rate", counters, MINUS_DEFERRED) is None
    assert indicator("ontime_closing_rate", counters) == Rate(8, 8, "closed_on_time", "due_to_close")


@pytest.mark.parametrize(
    ("name", "counts", "options"),
    [
        ("disposal_rate", {"due_for_disposal": 50, "disposed": 51}, Options()),
        ("disposal_rate", {"disposed": 1}, Options()),  # something disposed of nothing due
        ("accurate_filing_rate", {"filed": 3, "voided": 4}, Options()),
        ("rework_rate", {"due_to_close": 40, "disposed": 5, "reworked_disposals": 6}, DISPOSED),
        ("ontime_closing_rate", {"due_to_close": 10, "deferred_approved": 11}, MINUS_DEFERRED),
        (
            "ontime_closing_rate",
            {"due_to_close": 10, "closed_on_time": 10, "deferred_approved": 2},
            MINUS_DEFERRED,
        ),
    ],
)
def test_a_numerator_above_its_denominator_is_refused(
    name: str, counts: dict[str, int], options: Options
) -> None:
    with pytest.raises(InvalidInput) as exc:
        indicator(name, Counters(**counts), options)
    assert list(rejected(exc)) == [name]


def test_unknown_indicator_and_option_are_refused() -> None:
    with pytest.raises(InvalidInput):
        indicator("happiness_rate", Counters())
    with pytest.raises(InvalidInput) as exc:
        Options(rework_denominator="closed")
    assert list(rejected(exc)) == ["assessment/options/rework_denominator"]


# --- counters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_counters_are_whole_numbers_from_0(bad: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        Counters(filed=10, disposed=bad)
    assert list(rejected(exc)) == ["disposed"]


def test_counters_roll_up_by_addition_and_rates_are_recomputed_not_averaged() -> None:
    january = Counters(due_for_disposal=50, disposed=45, volume=120)
    february = Counters(due_for_disposal=20, disposed=10, volume=30)
    march = Counters()
    quarter = sum([january, february, march], Counters())
    assert quarter == Counters(due_for_disposal=70, disposed=55, volume=150)
    assert quarter.as_dict()["disposed"] == 55
    # Q1 处置率 = 55/70 = 11/14 ≈ 78.57, not the mean of 90 and 50 (= 70)
    rate = indicator("disposal_rate", quarter)
    assert rate is not None
    assert rate.value == Fraction(11, 14)
    assert rate.percent() == Decimal("78.57")
    # grids roll up to a street the same way
    assert Counters(filed=3, voided=1) + Counters(filed=2) == Counters(filed=5, voided=1)
    with pytest.raises(TypeError):
        _ = Counters() + 1


# --- composites: the schemes of domain.md §6 -------------------------------------------------------

DEPARTMENT = Counters(
    volume=120,
    due_to_close=40,
    closed=36,
    due_for_disposal=50,
    disposed=45,
    disposed_on_time=40,
    rework=6,
    reworked_disposals=6,
)
SUPERVISOR = Counters(
    reports=60,
    valid_reports=57,
    filed=50,
    missed_reports=3,
    verify_due=20,
    verified_on_time=18,
    check_due=30,
    checked_on_time=24,
)
REGION = Counters(
    due_for_disposal=50,
    disposed=45,
    disposed_on_time=40,
    due_to_close=40,
    rework=6,
    overdue_pending=5,
    postponed=2,
)


def test_department_scheme_10_30_30_30() -> None:
    result = assess("department", DEPARTMENT, rules())
    # volume 120 → 75; 结案率 36/40 → 90; 按期处置率 40/50 → 80; 返工率 6/40 = 0.15 → 85
    assert result.scores == {"volume": 75, "closing_rate": 90, "ontime_disposal_rate": 80, "rework_rate": 85}
    assert result.weights == {"volume": 10, "closing_rate": 30, "ontime_disposal_rate": 30, "rework_rate": 30}
    assert result.weights_used == result.weights
    # (10×75 + 30×90 + 30×80 + 30×85) / 100 = (750 + 2700 + 2400 + 2550) / 100 = 84 → B
    assert result.composite == 84
    assert result.grade == "B"
    assert result.composite_display() == Decimal("84.00")
    assert result.counters is DEPARTMENT
    assert result.rates["rework_rate"] == Rate(6, 40, "rework", "due_to_close")


def test_supervisor_scheme_40_20_20_20() -> None:
    result = assess("supervisor", SUPERVISOR, rules())
    # 有效上报率 57/60 → 95; 漏报率 3/50 = 0.06 → 94; 按期核实率 18/20 → 90; 按期核查率 24/30 → 80
    assert result.scores == {
        "valid_report_rate": 95,
        "missed_report_rate": 94,
        "ontime_verify_rate": 90,
        "ontime_check_rate": 80,
    }
    # (40×95 + 20×94 + 20×90 + 20×80) / 100 = (3800 + 1880 + 1800 + 1600) / 100 = 90.8 → A
    assert result.composite == Fraction("90.8")
    assert result.grade == "A"


def test_district_scheme_30_20_20_20_10() -> None:
    result = assess("region", REGION, rules())
    # 处置率 45/50 → 90; 按期处置率 40/50 → 80; 返工率 6/40 → 85; 超期待处置率 5/50 → 90; 延期率 2/50 → 96
    assert result.scores == {
        "disposal_rate": 90,
        "ontime_disposal_rate": 80,
        "rework_rate": 85,
        "overdue_pending_rate": 90,
        "postpone_rate": 96,
    }
    # (30×90 + 20×80 + 20×85 + 20×90 + 10×96) / 100 = (2700 + 1600 + 1700 + 1800 + 960) / 100 = 87.6 → B
    assert result.composite == Fraction("87.6")
    assert result.grade == "B"


@pytest.mark.parametrize(
    ("subject", "counters", "composite", "grade"),
    [
        # intake 50/50: 有效上报率 57/60 → 95, 按时立案率 47/50 → 94: (95 + 94) / 2 = 94.5 → A
        ("intake", Counters(reports=60, valid_reports=57, filed=50, filed_on_time=47), Fraction("94.5"), "A"),
        # shift lead 50/50: 按时立案率 47/50 → 94, 准确立案率 (50 − 4)/50 → 92: 93 → A
        ("shift_lead", Counters(filed=50, filed_on_time=47, voided=4), Fraction(93), "A"),
        # dispatcher 50/50: 按时派遣率 30/40 → 75, 准确派遣率 (40 − 3)/40 → 92.5: 83.75 → B
        (
            "dispatcher",
            Counters(dispatched=40, dispatched_on_time=30, returned_wrong_unit=3),
            Fraction("83.75"),
            "B",
        ),
    ],
)
def test_post_schemes(subject: str, counters: Counters, composite: Fraction, grade: str) -> None:
    result = assess(subject, counters, rules())
    assert (result.composite, result.grade) == (composite, grade)


def test_every_baseline_subject_can_be_assessed() -> None:
    everything = DEPARTMENT + SUPERVISOR + Counters(dispatched=40, dispatched_on_time=30, filed_on_time=47)
    for subject in SUBJECTS:
        result = assess(subject, everything, rules())
        assert sum(result.weights.values()) == 100
        assert result.composite is not None
        assert 0 <= result.composite <= 100


# --- inverted rates ------------------------------------------------------------------------------------


def test_a_higher_rework_rate_lowers_the_score() -> None:
    worse = replace(REGION, rework=12)
    base, bad = assess("region", REGION, rules()), assess("region", worse, rules())
    # 返工率 12/40 = 0.3 → 70 instead of 85: the composite drops by 20 × 15 / 100 = 3, to 84.6
    assert bad.scores["rework_rate"] == 70
    assert bad.composite == Fraction("84.6")
    assert base.composite is not None
    assert bad.composite < base.composite


@pytest.mark.parametrize(
    ("name", "field", "base"),
    [
        ("rework_rate", "rework", REGION),
        ("overdue_pending_rate", "overdue_pending", REGION),
        ("postpone_rate", "postponed", REGION),
        ("missed_report_rate", "missed_reports", SUPERVISOR),
        ("accurate_filing_rate", "voided", Counters(filed=50, voided=4)),
        ("accurate_dispatch_rate", "returned_wrong_unit", Counters(dispatched=40, returned_wrong_unit=3)),
    ],
)
def test_bad_outcomes_lower_the_score(name: str, field: str, base: Counters) -> None:
    more = replace(base, **{field: getattr(base, field) + 1})
    assert score(name, indicator(name, more)) < score(name, indicator(name, base))  # type: ignore[operator]
    assert INDICATORS[name][1] is (name in ("accurate_filing_rate", "accurate_dispatch_rate"))


# --- the None rule ------------------------------------------------------------------------------------


def test_an_indicator_without_a_value_gives_its_weight_to_the_others() -> None:
    no_disposal_due = replace(DEPARTMENT, due_for_disposal=0, disposed=0, disposed_on_time=0)
    result = assess("department", no_disposal_due, rules())
    assert result.rates["ontime_disposal_rate"] is None
    assert result.scores["ontime_disposal_rate"] is None
    # measured: volume 10 + 结案率 30 + 返工率 30 = 70, scaled to 100: 100/7, 300/7, 300/7
    assert result.weights_used == {
        "volume": Fraction(100, 7),
        "closing_rate": Fraction(300, 7),
        "ontime_disposal_rate": 0,
        "rework_rate": Fraction(300, 7),
    }
    # (100/7 × 75 + 300/7 × 90 + 300/7 × 85) / 100 = (7500 + 27000 + 25500) / 700 = 600/7 ≈ 85.71 → B
    assert result.composite == Fraction(600, 7)
    assert result.composite_display() == Decimal("85.71")
    assert result.grade == "B"


def test_a_subject_with_no_rate_is_not_assessed_even_with_a_volume() -> None:
    # a department that received no case: volume 0 would score 0 → E on its own
    result = assess("department", Counters(), rules())
    assert result.scores == {
        "volume": 0,
        "closing_rate": None,
        "ontime_disposal_rate": None,
        "rework_rate": None,
    }
    assert result.composite is None
    assert result.grade is None
    assert result.composite_display() is None
    assert set(result.weights_used.values()) == {0}
    # once a rate is measured it is assessed, volume 0 included: 结案率 1/1 → 100, 返工率 0/1 → 100,
    # 按期处置率 none: (100/7 × 0 + 300/7 × 100 + 300/7 × 100) / 100 = 600/7 ≈ 85.71 → B
    one = assess("department", Counters(due_to_close=1, closed=1), rules())
    assert (one.composite, one.grade) == (Fraction(600, 7), "B")


def test_a_volume_only_scheme_is_always_assessed() -> None:
    city = {
        "assessment/department/weight/volume": 100,
        **{
            f"assessment/department/weight/{i}": 0
            for i in ("closing_rate", "ontime_disposal_rate", "rework_rate")
        },
    }
    result = assess("department", Counters(volume=160), rules(city))
    assert (result.composite, result.grade) == (Fraction(90), "A")  # 160 reaches 150 → 90


# --- grades ---------------------------------------------------------------------------------------------

BASELINE_GRADES = {"A": Fraction(90), "B": Fraction(75), "C": Fraction(60), "D": Fraction(40)}


@pytest.mark.parametrize(
    ("composite", "grade"),
    [
        ("100", "A"),
        ("90", "A"),
        ("90.0", "A"),
        ("89.999", "B"),
        ("75", "B"),
        ("74.999", "C"),
        ("60", "C"),
        ("59.999", "D"),
        ("40", "D"),
        ("39.999", "E"),
        ("0", "E"),
    ],
)
def test_grade_boundaries_are_exact(composite: str, grade: str) -> None:
    assert grade_of(Fraction(composite), BASELINE_GRADES) == grade


@pytest.mark.parametrize(
    ("on_time", "returned", "composite", "grade"),
    [
        (900, 100, "90", "A"),  # (90 + 90) / 2 = 90
        (899, 100, "89.95", "B"),  # (89.9 + 90) / 2
        (500, 0, "75", "B"),  # (50 + 100) / 2
        (499, 0, "74.95", "C"),
        (200, 0, "60", "C"),  # (20 + 100) / 2
        (199, 0, "59.95", "D"),
        (0, 200, "40", "D"),  # (0 + 80) / 2
        (0, 201, "39.95", "E"),
    ],
)
def test_grade_boundaries_through_assess(on_time: int, returned: int, composite: str, grade: str) -> None:
    # dispatcher 50/50 on 1000 dispatches: composite = (on_time + 1000 − returned) / 20
    counters = Counters(dispatched=1000, dispatched_on_time=on_time, returned_wrong_unit=returned)
    result = assess("dispatcher", counters, rules())
    assert (result.composite, result.grade) == (Fraction(composite), grade)


def test_the_grade_uses_the_exact_composite_not_the_display() -> None:
    # supervisor: 90, 90, 90 and 按期核查率 8999/10000 → 89.99: (3600 + 1800 + 1800 + 1799.8) / 100 = 89.998
    counters = Counters(
        reports=10,
        valid_reports=9,
        filed=10,
        missed_reports=1,
        verify_due=10,
        verified_on_time=9,
        check_due=10000,
        checked_on_time=8999,
    )
    result = assess("supervisor", counters, rules())
    assert result.composite == Fraction("89.998")
    assert result.composite_display() == Decimal("90.00")
    assert result.grade == "B"


# --- a city's rules and provenance --------------------------------------------------------------------

CITY = {
    "assessment/department/weight/volume": 20,
    "assessment/department/weight/closing_rate": 20,
    "assessment/department/grade/A": 80,
    "assessment/options/rework_denominator": "disposed",
}


def test_a_city_override_is_legal_and_drives_the_composite_with_provenance() -> None:
    city = Layer(C2, CITY)
    assert validate_layer("320400", city, rules(), Kind.ASSESSMENT) == []
    doc = fold(Kind.ASSESSMENT, [Layer(P1, assessment_layer()), city])
    result = assess("department", DEPARTMENT, doc)
    # weights 20/20/30/30 (the last two inherited)
    # 返工率 by the city's option: 6/45 → (1 − 2/15) × 100 = 260/3
    assert result.options == DISPOSED
    assert result.scores["rework_rate"] == Fraction(260, 3)
    # (20×75 + 20×90 + 30×80 + 30×260/3) / 100 = (1500 + 1800 + 2400 + 2600) / 100 = 83 ≥ the city's A of 80
    assert result.composite == 83
    assert result.grade == "A"
    assert result.thresholds == {"A": 80, "B": 75, "C": 60, "D": 40}
    assert result.vector == (P1, C2)
    assert result.provenance == {
        "assessment/department/weight/volume": C2,
        "assessment/department/weight/closing_rate": C2,
        "assessment/department/weight/ontime_disposal_rate": P1,
        "assessment/department/weight/rework_rate": P1,
        "assessment/department/grade/A": C2,
        "assessment/department/grade/B": P1,
        "assessment/department/grade/C": P1,
        "assessment/department/grade/D": P1,
        "assessment/department/volume_steps": P1,
        "assessment/options/rework_denominator": C2,
        "assessment/options/ontime_closing_denominator": P1,
    }
    # under the baseline alone the same counters give 84 → B (see the department scheme)
    assert assess("department", DEPARTMENT, rules()).grade == "B"


def test_the_minus_deferred_option_from_a_city() -> None:
    doc = rules(
        {
            "assessment/region/weight/disposal_rate": 20,
            "assessment/region/weight/ontime_closing_rate": 10,
            "assessment/options/ontime_closing_denominator": "due_to_close_minus_deferred",
        }
    )
    counters = replace(REGION, closed=36, closed_on_time=30, deferred_approved=8, deferred_closed_on_time=2)
    result = assess("region", counters, doc)
    # 按期结案率 (30 − 2) / (40 − 8) = 0.875 → 87.5
    # (20×90 + 20×80 + 20×85 + 20×90 + 10×96 + 10×87.5) / 100 = (1800+1600+1700+1800+960+875) / 100 = 87.35
    assert result.scores["ontime_closing_rate"] == Fraction("87.5")
    assert result.composite == Fraction("87.35")
    assert result.provenance["assessment/options/ontime_closing_denominator"] == C2


# --- refusals ---------------------------------------------------------------------------------------


def test_weights_that_do_not_sum_to_100_are_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        assess("department", DEPARTMENT, rules({"assessment/department/weight/volume": 20}))  # 110
    assert rejected(exc) == {
        "assessment/department/weight": "the weights of department must sum to 100; they sum to 110"
    }
    with pytest.raises(InvalidInput) as exc:
        assess(
            "department", DEPARTMENT, rules(removed=frozenset({"assessment/department/weight/volume"}))
        )  # 90
    assert "they sum to 90" in rejected(exc)["assessment/department/weight"]
    # decimals are added as written: 33.3 + 33.3 + 33.4 is exactly 100
    thirds = {
        "assessment/intake/weight/valid_report_rate": 33.3,
        "assessment/intake/weight/ontime_filing_rate": 33.3,
        "assessment/intake/weight/missed_report_rate": 33.4,
    }
    assert assess("intake", Counters(), rules(thirds)).weights == {
        "valid_report_rate": Fraction("33.3"),
        "ontime_filing_rate": Fraction("33.3"),
        "missed_report_rate": Fraction("33.4"),
    }


def test_broken_rules_are_refused_with_every_problem() -> None:
    broken = rules(
        {"assessment/department/grade/B": 95, "assessment/department/volume_steps": [[1, 200]]},
        removed=frozenset({"assessment/department/grade/D"}),
    )
    with pytest.raises(InvalidInput) as exc:
        assess("department", DEPARTMENT, broken)
    assert set(rejected(exc)) == {"assessment/department/grade/D", "assessment/department/volume_steps"}
    with pytest.raises(InvalidInput) as exc:
        assess("department", DEPARTMENT, rules({"assessment/department/grade/B": 95}))
    assert rejected(exc) == {"assessment/department/grade": "grade thresholds must not rise from A to D"}


def test_unknown_subject_other_kinds_and_inconsistent_counters_are_refused() -> None:
    with pytest.raises(InvalidInput):
        assess("mayor", DEPARTMENT, rules())
    with pytest.raises(InvalidInput):
        assess("department", DEPARTMENT, fold(Kind.MANUAL, []))
    with pytest.raises(InvalidInput) as exc:
        assess("department", replace(DEPARTMENT, disposed_on_time=51), rules())
    assert list(rejected(exc)) == ["ontime_disposal_rate"]


# --- properties -------------------------------------------------------------------------------------


@st.composite
def counters(draw: st.DrawFn) -> Counters:
    """Consistent counters: every numerator within its denominator, as the roll-up will count them."""
    n = st.integers(0, 300)

    def within(high: int) -> int:
        return draw(st.integers(0, high))

    reports, filed, dispatched, due, close = draw(n), draw(n), draw(n), draw(n), draw(n)
    verify, check = draw(n), draw(n)
    disposed = within(due)
    deferred = within(close)
    deferred_on_time, other_on_time = within(deferred), within(close - deferred)
    closed_on_time = deferred_on_time + other_on_time
    return Counters(
        reports=reports,
        valid_reports=within(reports),
        missed_reports=within(filed),
        filed=filed,
        voided=within(filed),
        filed_on_time=within(filed),
        verify_due=verify,
        verified_on_time=within(verify),
        check_due=check,
        checked_on_time=within(check),
        dispatched=dispatched,
        dispatched_on_time=within(dispatched),
        returned_wrong_unit=within(dispatched),
        due_for_disposal=due,
        disposed=disposed,
        disposed_on_time=within(disposed),
        overdue_pending=within(due - disposed),
        postponed=within(due),
        rework=within(min(disposed, close)),
        reworked_disposals=within(disposed),
        due_to_close=close,
        closed=closed_on_time + within(close - closed_on_time),
        closed_on_time=closed_on_time,
        deferred_approved=deferred,
        deferred_closed_on_time=deferred_on_time,
        volume=draw(st.integers(0, 500)),
    )


OPTIONS = st.sampled_from([Options(), DISPOSED, MINUS_DEFERRED])


@settings(max_examples=200, deadline=None)
@given(counters(), st.sampled_from(sorted(SUBJECTS)), OPTIONS)
def test_scores_and_composites_stay_within_0_and_100(c: Counters, subject: str, options: Options) -> None:
    for name in INDICATORS:
        s = score(name, indicator(name, c, options), VOLUME_STEPS)
        assert s is None or 0 <= s <= 100
    doc = rules(
        {
            f"assessment/options/{o}": getattr(options, o)
            for o in ("rework_denominator", "ontime_closing_denominator")
        }
    )
    result: Assessment = assess(subject, c, doc)
    assert result.composite is None or 0 <= result.composite <= 100
    if result.composite is not None:
        assert sum(result.weights_used.values()) == 100


# each counter that, raised by one with its denominator fixed, must not lower (+1) or raise (−1) a score
MONOTONE = [
    ("disposal_rate", "disposed", +1),
    ("ontime_disposal_rate", "disposed_on_time", +1),
    ("rework_rate", "rework", -1),
    ("overdue_pending_rate", "overdue_pending", -1),
    ("postpone_rate", "postponed", -1),
    ("closing_rate", "closed", +1),
    ("ontime_closing_rate", "closed_on_time", +1),
    ("valid_report_rate", "valid_reports", +1),
    ("missed_report_rate", "missed_reports", -1),
    ("ontime_verify_rate", "verified_on_time", +1),
    ("ontime_check_rate", "checked_on_time", +1),
    ("ontime_filing_rate", "filed_on_time", +1),
    ("accurate_filing_rate", "voided", -1),
    ("ontime_dispatch_rate", "dispatched_on_time", +1),
    ("accurate_dispatch_rate", "returned_wrong_unit", -1),
    ("volume", "volume", +1),
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MONOTONE), st.integers(1, 400), st.data())
def test_scores_are_monotone_in_each_counter(
    case: tuple[str, str, int], denominator: int, data: st.DataObject
) -> None:
    name, field, direction = case
    numerator = data.draw(st.integers(0, denominator - 1))
    top, bottom = FORMULAS[name]
    counts = dict.fromkeys(t.lstrip("-") for t in top + bottom) | {field: numerator}
    counts.update(dict.fromkeys(bottom, denominator))
    base = Counters(**{k: v or 0 for k, v in counts.items()})
    better = replace(base, **{field: numerator + 1})
    before = score(name, indicator(name, base), VOLUME_STEPS)
    after = score(name, indicator(name, better), VOLUME_STEPS)
    assert before is not None
    assert after is not None
    assert (after - before) * direction >= 0
    if name != "volume":
        assert after != before  # a rate moves strictly with its numerator


@settings(max_examples=200, deadline=None)
@given(counters())
def test_the_region_composite_rises_with_on_time_disposal_and_falls_with_rework(c: Counters) -> None:
    base = assess("region", c, rules()).composite
    if c.disposed_on_time < c.disposed:
        better = assess("region", replace(c, disposed_on_time=c.disposed_on_time + 1), rules()).composite
        assert base is not None
        assert better is not None
        assert better > base
    if c.rework < min(c.disposed, c.due_to_close):
        worse = assess("region", replace(c, rework=c.rework + 1), rules()).composite
        assert base is not None
        assert worse is not None
        assert worse < base

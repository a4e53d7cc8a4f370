"""Layers, the fold (逐级继承) and the policies (``tenants/standards/layers.py``): pure, no database.

Hand-built small layers for a province 320000 (江苏), a city 320400 (常州) and a county 320411 (新北区).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tenants.standards.layers import (
    Effective,
    EffectiveEntry,
    Layer,
    Policy,
    Source,
    Violation,
    fold,
    prefixes,
    validate_layer,
)
from tenants.standards.paths import Kind

PROVINCE, CITY, COUNTY = "320000", "320400", "320411"
P1, C2, K3 = Source(PROVINCE, 1), Source(CITY, 2), Source(COUNTY, 3)

NORMAL = "manual/matter/06012/limit/normal"
URGENT = "manual/matter/06012/limit/urgent"
FILING = "manual/matter/06012/filing"
RESPONSIBLE = "manual/matter/06012/responsible"
NATURAL = "calendar/natural_time"


def manual(source: Source, values: dict[str, Any] | None = None, **rest: Any) -> Layer:
    policies = {p: Policy(r) for p, r in rest.pop("policies", {}).items()}
    return Layer(source, values or {}, policies=policies, **rest)


def province_manual(**policies: str) -> Layer:
    values = {
        NORMAL: "5wh",
        URGENT: "2wh",
        FILING: "现场出现道路不洁问题",
        RESPONSIBLE: "territory_first",
        "manual/default/limit/normal": "1wd",
    }
    return manual(P1, values, policies={p.replace("__", "/"): r for p, r in policies.items()})


def check(layer: Layer, upper: list[Layer], kind: Kind = Kind.MANUAL) -> list[Violation]:
    return validate_layer(layer.source.code, layer, fold(kind, upper), kind)


def rules(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.path, v.rule) for v in violations]


# --- the fold ---------------------------------------------------------------------------------------


def test_fold_of_nothing_is_empty() -> None:
    doc = fold(Kind.MANUAL, [])
    assert doc.kind is Kind.MANUAL
    assert doc.vector == ()
    assert doc.values == {}
    assert doc.policies == {}
    assert doc.value(NORMAL) is None
    assert doc.value(NORMAL, "absent") == "absent"
    assert doc.policy(NORMAL) == (Policy.FREE, None)


def test_later_layers_win_and_remember_who_set_each_value() -> None:
    province = manual(P1, {NORMAL: "5wh", URGENT: "2wh", FILING: "省级立案条件"})
    city = manual(C2, {NORMAL: "4wh"})
    county = manual(K3, {URGENT: "1wh", RESPONSIBLE: "sector:环卫"})
    doc = fold(Kind.MANUAL, [province, city, county])
    assert doc.values == {
        NORMAL: ("4wh", C2),
        URGENT: ("1wh", K3),
        FILING: ("省级立案条件", P1),
        RESPONSIBLE: ("sector:环卫", K3),
    }
    assert doc.value(NORMAL) == "4wh"
    assert doc.value(URGENT) == "1wh"
    assert doc.vector == (P1, C2, K3)


def test_order_of_layers_decides() -> None:
    a = manual(P1, {NORMAL: "5wh"})
    b = manual(C2, {NORMAL: "4wh"})
    assert fold(Kind.MANUAL, [a, b]).values[NORMAL] == ("4wh", C2)
    assert fold(Kind.MANUAL, [b, a]).values[NORMAL] == ("5wh", P1)
    assert fold(Kind.MANUAL, [b, a]).vector == (C2, P1)


def test_removed_drops_an_inherited_entry() -> None:
    province = manual(P1, {NORMAL: "5wh", URGENT: "2wh"})
    city = manual(C2, removed=frozenset({URGENT}))
    doc = fold(Kind.MANUAL, [province, city])
    assert doc.values == {NORMAL: ("5wh", P1)}
    assert doc.value(URGENT) is None
    # a county below may set it again, and is then its source
    county = manual(K3, {URGENT: "3wh"})
    assert fold(Kind.MANUAL, [province, city, county]).values[URGENT] == ("3wh", K3)


def test_a_layer_may_remove_and_set_the_same_path() -> None:
    """Removals apply before the layer's own values, so a value set in the same layer stays."""
    province = manual(P1, {NORMAL: "5wh"})
    city = manual(C2, {NORMAL: "4wh"}, removed=frozenset({NORMAL}))
    assert fold(Kind.MANUAL, [province, city]).values[NORMAL] == ("4wh", C2)


def test_removing_something_absent_is_harmless_in_the_fold() -> None:
    province = manual(P1, {NORMAL: "5wh"})
    city = manual(C2, removed=frozenset({URGENT}))
    assert fold(Kind.MANUAL, [province, city]).values == {NORMAL: ("5wh", P1)}


def test_an_empty_layer_changes_nothing_but_the_vector() -> None:
    province = manual(P1, {NORMAL: "5wh", URGENT: "2wh"}, policies={"manual/matter": "tighten_only"})
    city = manual(C2, {NORMAL: "4wh"})
    before = fold(Kind.MANUAL, [province, city])
    after = fold(Kind.MANUAL, [province, city, Layer(K3)])
    assert after.values == before.values
    assert after.policies == before.policies
    assert after.exemptions == before.exemptions
    assert before.vector == (P1, C2)
    assert after.vector == (P1, C2, K3)


def test_entries_carry_value_source_and_policy() -> None:
    province = manual(
        P1, {NORMAL: "5wh", URGENT: "2wh", FILING: "省"}, policies={"manual/matter/06012/limit": "locked"}
    )
    city = manual(C2, {FILING: "市"})
    doc = fold(Kind.MANUAL, [province, city])
    assert doc.entries("manual/matter/06012/limit") == {
        NORMAL: EffectiveEntry("5wh", P1, Policy.LOCKED, P1),
        URGENT: EffectiveEntry("2wh", P1, Policy.LOCKED, P1),
    }
    assert doc.entries()[FILING] == EffectiveEntry("市", C2, Policy.FREE, None)
    assert list(doc.entries()) == sorted([NORMAL, URGENT, FILING])
    assert doc.entries("calendar/") == {}


def test_prefixes() -> None:
    assert list(prefixes("manual/matter/06012")) == ["manual", "manual/matter", "manual/matter/06012"]
    assert list(prefixes("manual")) == ["manual"]


# --- policies ---------------------------------------------------------------------------------------


def test_a_policy_on_a_prefix_governs_every_leaf_below() -> None:
    doc = fold(Kind.MANUAL, [province_manual(manual__matter__06012="locked")])
    for path in (NORMAL, URGENT, FILING, RESPONSIBLE, "manual/matter/06012/stage/1/name"):
        assert doc.policy(path) == (Policy.LOCKED, P1), path
    # a local sub-item is governed like its class (or a sub-item would get round the lock) …
    assert doc.policy("manual/matter/06012-01/limit/normal") == (Policy.LOCKED, P1)
    # … but not a sibling class, a class whose code merely starts the same way, nor the default
    assert doc.policy("manual/matter/06013/limit/normal") == (Policy.FREE, None)
    assert doc.policy("manual/matter/060121/limit/normal") == (Policy.FREE, None)
    assert doc.policy("manual/default/limit/normal") == (Policy.FREE, None)


def test_strongest_policy_wins_across_prefixes() -> None:
    province = manual(P1, {NORMAL: "5wh"}, policies={"manual/matter": "tighten_only"})
    city = manual(C2, policies={NORMAL: "locked", "manual/matter/06012": "free"})
    doc = fold(Kind.MANUAL, [province, city])
    assert doc.policy(NORMAL) == (Policy.LOCKED, C2)
    assert doc.policy(URGENT) == (Policy.TIGHTEN_ONLY, P1)
    assert doc.policy("manual/matter/06001/limit/normal") == (Policy.TIGHTEN_ONLY, P1)
    assert doc.policy("manual/component/01001/limit/normal") == (Policy.FREE, None)


def test_a_weaker_policy_below_does_not_weaken_the_fold() -> None:
    province = manual(P1, policies={"manual/matter/06012": "locked", NORMAL: "tighten_only"})
    city = manual(C2, policies={"manual/matter/06012": "free", NORMAL: "free"})
    doc = fold(Kind.MANUAL, [province, city])
    assert doc.policies == {"manual/matter/06012": (Policy.LOCKED, P1), NORMAL: (Policy.TIGHTEN_ONLY, P1)}
    assert doc.policy(NORMAL) == (Policy.LOCKED, P1)


def test_a_stronger_policy_below_takes_over_with_its_source() -> None:
    province = manual(P1, policies={NORMAL: "tighten_only"})
    city = manual(C2, policies={NORMAL: "locked"})
    county = manual(K3, policies={NORMAL: "locked"})  # equal: the first setter stays the source
    doc = fold(Kind.MANUAL, [province, city, county])
    assert doc.policies == {NORMAL: (Policy.LOCKED, C2)}


def test_policy_ranks_and_labels() -> None:
    assert Policy.FREE.rank < Policy.TIGHTEN_ONLY.rank < Policy.LOCKED.rank
    assert [p.label for p in Policy] == ["自由覆盖", "只可从严", "锁定"]


def test_a_lower_layer_may_strengthen_a_policy() -> None:
    city = manual(C2, policies={"manual/matter/06012": "locked", "manual/matter": "tighten_only"})
    assert check(city, [province_manual(manual__matter="tighten_only")]) == []


def test_a_lower_layer_may_not_weaken_a_policy() -> None:
    city = manual(C2, policies={"manual/matter/06012": "free", NORMAL: "tighten_only"})
    violations = check(city, [province_manual(manual__matter__06012="locked")])
    assert sorted(violations, key=lambda v: v.path) == [
        Violation(
            CITY,
            "manual/matter/06012",
            "policy_weakened",
            "a policy may be strengthened below, not weakened (locked above)",
            "free",
            "locked",
            P1,
        ),
        Violation(
            CITY,
            NORMAL,
            "policy_weakened",
            "a policy may be strengthened below, not weakened (locked above)",
            "tighten_only",
            "locked",
            P1,
        ),
    ]


def test_restating_the_same_policy_below_is_allowed() -> None:
    city = manual(C2, policies={"manual/matter/06012": "tighten_only"})
    assert check(city, [province_manual(manual__matter__06012="tighten_only")]) == []


@pytest.mark.parametrize(
    "path", ["catalog/matter", "calendar/hours", "manual", "manual/", "manual//x", "manual/a b"]
)
def test_a_policy_must_sit_on_a_path_of_the_document(path: str) -> None:
    city = manual(C2, policies={path: "locked"})
    [violation] = check(city, [province_manual()])
    assert (violation.path, violation.rule, violation.value) == (path, "invalid_value", "locked")
    assert violation.detail == "not a path of this document"


def test_a_policy_on_a_lookalike_kind_is_refused() -> None:
    city = manual(C2, policies={"manualx/matter": "locked"})
    assert rules(check(city, [province_manual()])) == [("manualx/matter", "invalid_value")]


def test_policies_bind_only_the_layers_below() -> None:
    """The city's own lock does not stop the city changing the value; it stops the county."""
    city = manual(C2, {NORMAL: "8wh", FILING: "市级立案条件"}, policies={"manual/matter/06012": "locked"})
    province = province_manual()
    assert check(city, [province]) == []
    county = manual(K3, {NORMAL: "4wh"})
    [violation] = check(county, [province, city])
    assert violation == Violation(COUNTY, NORMAL, "locked", "locked by an upper level", "4wh", "8wh", C2)


# --- validate_layer: locked -------------------------------------------------------------------------


def test_locked_refuses_any_change_and_names_the_upper_value_and_setter() -> None:
    province = province_manual(manual__matter__06012__limit="locked")
    city = manual(C2, {NORMAL: "4wh", URGENT: "2wh", FILING: "市级立案条件"})
    violations = check(city, [province])
    assert sorted(violations, key=lambda v: v.path) == [
        Violation(CITY, NORMAL, "locked", "locked by an upper level", "4wh", "5wh", P1),
        # even restating the same value is a change under a lock
        Violation(CITY, URGENT, "locked", "locked by an upper level", "2wh", "2wh", P1),
    ]


def test_locked_refuses_adding_a_new_leaf_under_the_prefix() -> None:
    province = province_manual(manual__matter__06012="locked")
    city = manual(C2, {"manual/matter/06012/step/verify": "30wmin"})
    [violation] = check(city, [province])
    assert (violation.rule, violation.upper, violation.set_by) == ("locked", None, P1)


def test_lock_set_by_city_is_reported_as_the_city() -> None:
    province = province_manual(manual__matter="tighten_only")
    city = manual(C2, policies={NORMAL: "locked"})
    county = manual(K3, {NORMAL: "4wh"})
    [violation] = check(county, [province, city])
    assert (violation.rule, violation.upper, violation.set_by) == ("locked", "5wh", C2)


# --- validate_layer: tighten_only on limits ---------------------------------------------------------


@pytest.mark.parametrize(
    ("upper", "lower"),
    [
        ("5wh", "2wh"),
        ("5wh", "5wh"),
        ("5wh", "300wmin"),  # the same limit in minutes
        ("5wh", "0wh"),
        ("1wd", "7wh"),  # 7wh ends Monday 17:30, 1wd Tuesday 09:00
        ("1wd", "7.5wh"),  # 1wd is 7.5 working hours on the default day
        ("1wd", "450wmin"),
        ("8wh", "1wd"),  # 8wh ends Tuesday 09:30
        ("1wd", "24h"),  # Monday 09:00 → Tuesday 09:00 either way
        ("24h", "1wd"),
        ("1wd", "23h"),
        ("1wd", "1d"),
        ("2wd", "1.5wd"),
        ("4wh", "3h"),
        ("2h", "2wh"),  # both end at 11:00
    ],
)
def test_tighten_only_lets_a_limit_shrink(upper: str, lower: str) -> None:
    province = manual(P1, {NORMAL: upper}, policies={"manual/matter": "tighten_only"})
    assert check(manual(C2, {NORMAL: lower}), [province]) == []


@pytest.mark.parametrize(
    ("upper", "lower"),
    [
        ("5wh", "6wh"),
        ("5wh", "301wmin"),
        ("1wd", "2wd"),
        ("1wd", "8wh"),
        ("7wh", "1wd"),
        ("1wd", "25h"),
        ("1wd", "2d"),
        ("24h", "8wh"),
        ("2h", "3wh"),
        ("1wd", "1.01wd"),
    ],
)
def test_tighten_only_refuses_a_growing_limit(upper: str, lower: str) -> None:
    province = manual(P1, {NORMAL: upper}, policies={"manual/matter": "tighten_only"})
    [violation] = check(manual(C2, {NORMAL: lower}), [province])
    assert violation == Violation(
        CITY,
        NORMAL,
        "tighten_only",
        "tighten_only: a time limit may shrink, not grow",
        lower,
        upper,
        P1,
    )


def test_tighten_only_on_stage_and_step_limits() -> None:
    stage = "manual/matter/06001/stage/2/limit"
    verify = "manual/matter/06001/step/verify"
    province = manual(P1, {stage: "7wd", verify: "1wh"}, policies={"manual/matter/06001": "tighten_only"})
    assert check(manual(C2, {stage: "5wd", verify: "30wmin"}), [province]) == []
    assert rules(check(manual(C2, {stage: "8wd"}), [province])) == [(stage, "tighten_only")]
    assert rules(check(manual(C2, {verify: "61wmin"}), [province])) == [(verify, "tighten_only")]


def test_tighten_only_allows_a_new_leaf_with_nothing_to_compare() -> None:
    province = province_manual(manual__matter__06012="tighten_only")
    city = manual(C2, {"manual/matter/06012/limit/very_urgent": "1wh"})
    assert check(city, [province]) == []


def test_tighten_only_compares_with_the_nearest_upper_value() -> None:
    """The county is compared with the city's tightened 3wh, not the province's 5wh."""
    province = province_manual(manual__matter="tighten_only")
    city = manual(C2, {NORMAL: "3wh"})
    assert check(city, [province]) == []
    [violation] = check(manual(K3, {NORMAL: "4wh"}), [province, city])
    assert (violation.rule, violation.value, violation.upper, violation.set_by) == (
        "tighten_only",
        "4wh",
        "3wh",
        P1,
    )


# --- validate_layer: tighten_only on lists and text -------------------------------------------------


def calendar_province(natural: list[str]) -> Layer:
    values = {NATURAL: natural, "calendar/timezone": "Asia/Shanghai"}
    return Layer(P1, values, policies={"calendar": Policy.TIGHTEN_ONLY, NATURAL: Policy.TIGHTEN_ONLY})


def test_tighten_only_lets_a_list_gain_entries() -> None:
    city = Layer(C2, {NATURAL: ["urgent", "very_urgent"]})
    assert check(city, [calendar_province(["urgent"])], Kind.CALENDAR) == []
    # the same set in another order is no loss
    city = Layer(C2, {NATURAL: ["b_level", "urgent"]})
    assert check(city, [calendar_province(["urgent", "b_level"])], Kind.CALENDAR) == []


@pytest.mark.parametrize("lower", [[], ["very_urgent"], ["urgent"]])
def test_tighten_only_refuses_a_list_losing_entries(lower: list[str]) -> None:
    upper = ["urgent", "very_urgent"]
    [violation] = check(Layer(C2, {NATURAL: lower}), [calendar_province(upper)], Kind.CALENDAR)
    assert violation == Violation(
        CITY,
        NATURAL,
        "tighten_only",
        "tighten_only: urgency levels may gain entries, not lose them",
        lower,
        upper,
        P1,
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (FILING, "市级立案条件"),
        (RESPONSIBLE, "sector:环卫"),
    ],
)
def test_tighten_only_refuses_any_change_of_text(path: str, value: str) -> None:
    province = province_manual(manual__matter="tighten_only")
    [violation] = check(manual(C2, {path: value}), [province])
    assert (violation.rule, violation.value, violation.upper, violation.set_by) == (
        "tighten_only",
        value,
        fold(Kind.MANUAL, [province]).value(path),
        P1,
    )
    assert violation.detail.endswith("has no order, so it may not change")


def test_tighten_only_on_text_allows_restating_the_same_value() -> None:
    province = province_manual(manual__matter="tighten_only")
    assert check(manual(C2, {FILING: "现场出现道路不洁问题"}), [province]) == []


def test_tighten_only_on_a_timezone_refuses_a_change() -> None:
    city = Layer(C2, {"calendar/timezone": "Asia/Urumqi"})
    assert rules(check(city, [calendar_province(["urgent"])], Kind.CALENDAR)) == [
        ("calendar/timezone", "tighten_only")
    ]


def test_free_allows_anything_valid() -> None:
    city = manual(C2, {NORMAL: "3wd", FILING: "市级立案条件", RESPONSIBLE: "owner_first"})
    assert check(city, [province_manual()]) == []


# --- validate_layer: removals -----------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["locked", "tighten_only"])
def test_removing_a_governed_entry_is_refused(policy: str) -> None:
    province = province_manual(manual__matter__06012__limit=policy)
    city = manual(C2, removed=frozenset({URGENT}))
    [violation] = check(city, [province])
    assert violation == Violation(
        CITY, URGENT, policy, f"{policy}: an inherited entry may not be removed", None, "2wh", P1
    )


def test_removing_a_free_inherited_entry_is_allowed() -> None:
    city = manual(C2, removed=frozenset({URGENT, FILING}))
    assert check(city, [province_manual(manual__matter__06001="locked")]) == []


def test_removing_what_is_not_inherited_is_refused() -> None:
    city = manual(C2, removed=frozenset({"manual/matter/06013/limit/normal"}))
    [violation] = check(city, [province_manual()])
    assert violation == Violation(
        CITY, "manual/matter/06013/limit/normal", "not_inherited", "there is no inherited entry to remove"
    )


def test_removing_what_a_middle_layer_already_removed_is_refused() -> None:
    province = province_manual()
    city = manual(C2, removed=frozenset({URGENT}))
    county = manual(K3, removed=frozenset({URGENT}))
    assert rules(check(county, [province, city])) == [(URGENT, "not_inherited")]


def test_removing_a_list_under_tighten_only_is_refused() -> None:
    city = Layer(C2, removed=frozenset({NATURAL}))
    assert rules(check(city, [calendar_province(["urgent"])], Kind.CALENDAR)) == [(NATURAL, "tighten_only")]


# --- validate_layer: invalid values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "detail"),
    [
        (NORMAL, "five hours", "is not a time limit"),
        (NORMAL, 5, "must be a time limit"),
        ("manual/matter/06012/limit/Normal", "5wh", "unknown path"),
        ("manual/matter/06012/colour", "red", "unknown path"),
        ("catalog/matter/06012/name", "道路不洁", "paths of the manual document start with 'manual/'"),
        (RESPONSIBLE, "sector:", "must be"),
    ],
)
def test_an_invalid_value_is_refused_before_any_policy(path: str, value: Any, detail: str) -> None:
    province = province_manual(manual__matter="locked")  # invalid_value wins over locked
    [violation] = check(manual(C2, {path: value}), [province])
    assert (violation.code, violation.path, violation.rule, violation.value) == (
        CITY,
        path,
        "invalid_value",
        value,
    )
    assert detail in violation.detail
    assert violation.set_by is None


def test_the_province_layer_validates_against_nothing() -> None:
    assert check(province_manual(manual__matter="locked"), []) == []


# --- validate_layer: assessment weights -------------------------------------------------------------

WEIGHTS = {"volume": 10, "closing_rate": 30, "ontime_disposal_rate": 30, "rework_rate": 30}


def assessment_province() -> Layer:
    values: dict[str, Any] = {f"assessment/department/weight/{i}": w for i, w in WEIGHTS.items()}
    values.update(
        {"assessment/intake/weight/valid_report_rate": 50, "assessment/intake/weight/ontime_filing_rate": 50}
    )
    values["assessment/department/grade/A"] = 90
    return Layer(P1, values)


def test_weights_may_move_while_they_sum_to_100() -> None:
    city = Layer(
        C2, {"assessment/department/weight/volume": 20, "assessment/department/weight/rework_rate": 20}
    )
    assert check(city, [assessment_province()], Kind.ASSESSMENT) == []


def test_weights_that_no_longer_sum_to_100_are_refused() -> None:
    city = Layer(C2, {"assessment/department/weight/volume": 25})
    [violation] = check(city, [assessment_province()], Kind.ASSESSMENT)
    assert violation == Violation(
        CITY,
        "assessment/department/weight",
        "weights_sum",
        "the weights of department must sum to 100; they would sum to 115",
        115,
        100,
    )


def test_a_new_indicator_counts_in_the_sum() -> None:
    city = Layer(C2, {"assessment/department/weight/disposal_rate": 10})
    [violation] = check(city, [assessment_province()], Kind.ASSESSMENT)
    assert (violation.rule, violation.value) == ("weights_sum", 110)
    assert "they would sum to 110" in violation.detail


def test_removing_a_weight_counts_in_the_sum() -> None:
    removed = Layer(C2, removed=frozenset({"assessment/department/weight/volume"}))
    [violation] = check(removed, [assessment_province()], Kind.ASSESSMENT)
    assert (violation.path, violation.rule, violation.value) == (
        "assessment/department/weight",
        "weights_sum",
        90,
    )
    compensated = Layer(
        C2,
        {"assessment/department/weight/closing_rate": 40},
        removed=frozenset({"assessment/department/weight/volume"}),
    )
    assert check(compensated, [assessment_province()], Kind.ASSESSMENT) == []


def test_each_touched_subject_is_summed_separately() -> None:
    city = Layer(
        C2,
        {
            "assessment/department/weight/volume": 0,  # department: 90
            "assessment/intake/weight/valid_report_rate": 60,  # intake: 110
        },
    )
    violations = check(city, [assessment_province()], Kind.ASSESSMENT)
    assert [(v.path, v.value) for v in violations] == [
        ("assessment/department/weight", 90),
        ("assessment/intake/weight", 110),
    ]
    assert violations[0].detail.endswith("they would sum to 90")


def test_fractional_weights_summing_to_100_are_fine() -> None:
    city = Layer(
        C2, {"assessment/department/weight/volume": 10.5, "assessment/department/weight/closing_rate": 29.5}
    )
    assert check(city, [assessment_province()], Kind.ASSESSMENT) == []


def test_untouched_subjects_and_non_weights_are_not_summed() -> None:
    upper = Layer(P1, {"assessment/department/weight/volume": 10})  # an upper sum that is already off
    assert check(Layer(C2, {"assessment/department/grade/A": 85}), [upper], Kind.ASSESSMENT) == []


def test_weights_are_not_summed_in_other_kinds() -> None:
    assert check(manual(C2, {NORMAL: "4wh"}), [province_manual()]) == []


# --- exemptions ---------------------------------------------------------------------------------------


def exempting_province(policy: str = "locked") -> Layer:
    return manual(
        P1,
        {NORMAL: "5wh", URGENT: "2wh"},
        policies={"manual/matter/06012": policy},
        exemptions={NORMAL: {CITY: "8wh"}},
    )


def test_an_exemption_lifts_the_policy_for_that_tenant_and_value() -> None:
    assert check(manual(C2, {NORMAL: "8wh"}), [exempting_province()]) == []
    doc = fold(Kind.MANUAL, [exempting_province()])
    assert doc.policy(NORMAL, for_code=CITY, value="8wh") == (Policy.FREE, None)
    assert doc.policy(NORMAL) == (Policy.LOCKED, P1)


def test_an_exemption_is_for_exactly_one_value() -> None:
    [violation] = check(manual(C2, {NORMAL: "9wh"}), [exempting_province()])
    assert (violation.rule, violation.value, violation.upper) == ("locked", "9wh", "5wh")
    doc = fold(Kind.MANUAL, [exempting_province()])
    assert doc.policy(NORMAL, for_code=CITY, value="9wh") == (Policy.LOCKED, P1)


def test_an_exemption_is_for_exactly_one_tenant() -> None:
    county = manual(K3, {NORMAL: "8wh"})
    [violation] = check(county, [exempting_province(), manual(C2)])
    assert (violation.code, violation.rule, violation.value) == (COUNTY, "locked", "8wh")
    other_city = manual(Source("320500", 1), {NORMAL: "8wh"})
    assert rules(check(other_city, [exempting_province()])) == [(NORMAL, "locked")]


def test_an_exemption_is_for_exactly_one_path() -> None:
    [violation] = check(manual(C2, {NORMAL: "8wh", URGENT: "8wh"}), [exempting_province()])
    assert (violation.path, violation.rule) == (URGENT, "locked")


def test_an_exemption_lifts_tighten_only_too() -> None:
    assert check(manual(C2, {NORMAL: "8wh"}), [exempting_province("tighten_only")]) == []
    assert rules(check(manual(C2, {NORMAL: "7wh"}), [exempting_province("tighten_only")])) == [
        (NORMAL, "tighten_only")
    ]


def test_exemptions_accumulate_in_the_fold() -> None:
    province = manual(P1, exemptions={NORMAL: {CITY: "8wh"}})
    city = manual(C2, exemptions={NORMAL: {COUNTY: "6wh"}, URGENT: {COUNTY: "3wh"}})
    doc = fold(Kind.MANUAL, [province, city])
    assert doc.exemptions == {NORMAL: {CITY: "8wh", COUNTY: "6wh"}, URGENT: {COUNTY: "3wh"}}


# --- Layer.of / content -----------------------------------------------------------------------------


def test_layer_content_round_trip() -> None:
    layer = Layer(
        C2,
        values={URGENT: "1wh", NORMAL: "4wh", FILING: "市级立案条件"},
        removed=frozenset({RESPONSIBLE, "manual/default/limit/normal"}),
        policies={"manual/matter/06012": Policy.LOCKED, "manual/matter": Policy.TIGHTEN_ONLY},
        exemptions={NORMAL: {COUNTY: "6wh"}},
    )
    content = layer.content()
    assert content == {
        "values": {FILING: "市级立案条件", NORMAL: "4wh", URGENT: "1wh"},
        "removed": ["manual/default/limit/normal", RESPONSIBLE],
        "policies": {"manual/matter": "tighten_only", "manual/matter/06012": "locked"},
        "exemptions": {NORMAL: {COUNTY: "6wh"}},
    }
    assert list(content["values"]) == sorted(content["values"])  # stored sorted
    stored = json.loads(json.dumps(content, ensure_ascii=False))
    again = Layer.of(C2, stored)
    assert again == layer
    assert again.policies["manual/matter/06012"] is Policy.LOCKED
    assert again.removed == frozenset({RESPONSIBLE, "manual/default/limit/normal"})
    assert again.content() == content


def test_layer_of_partial_content() -> None:
    layer = Layer.of(P1, {"values": {NORMAL: "5wh"}})
    assert layer == Layer(P1, {NORMAL: "5wh"})
    assert layer.removed == frozenset()
    assert layer.policies == {}
    assert layer.exemptions == {}
    assert Layer.of(P1, {}).content() == {"values": {}, "removed": [], "policies": {}, "exemptions": {}}


def test_layer_of_refuses_an_unknown_policy() -> None:
    with pytest.raises(ValueError, match="forbidden"):
        Layer.of(P1, {"policies": {NORMAL: "forbidden"}})


def test_touched() -> None:
    layer = Layer(C2, {NORMAL: "4wh"}, removed=frozenset({URGENT}), policies={FILING: Policy.LOCKED})
    assert layer.touched() == {NORMAL, URGENT}


def test_effective_views_do_not_affect_equality() -> None:
    a = fold(Kind.MANUAL, [province_manual()])
    b = fold(Kind.MANUAL, [province_manual()])
    a.views["manual"] = object()
    assert a == b
    assert isinstance(a, Effective)


def test_a_sub_item_cannot_loosen_its_tighten_only_class() -> None:
    """A county adding local sub-item 06012-01 is held to the class's limit and policy."""
    city = manual(C2, {NORMAL: "2wh"}, policies={"manual/matter/06012/limit": "tighten_only"})
    upper = fold(Kind.MANUAL, [province_manual(), city])
    loose = manual(K3, {"manual/matter/06012-01/limit/normal": "3wh"})
    [violation] = validate_layer("320411", loose, upper, Kind.MANUAL)
    assert (violation.rule, violation.upper, violation.set_by) == ("tighten_only", "2wh", C2)
    tight = manual(K3, {"manual/matter/06012-01/limit/normal": "1wh"})
    assert validate_layer("320411", tight, upper, Kind.MANUAL) == []

"""Component object ids (GB/T 30428.2 16 digits, GB/T 47678.5 17 digits) and credit codes."""

from __future__ import annotations

import pytest

from citylead.units.ids import (
    ID_RULE,
    ComponentId,
    credit_check_char,
    credit_code_rule,
    id_problems,
    parse_component_id,
)
from citylead.units.models import Edition

COUNTY = "320411"


def test_a_17_digit_id_is_county_five_digit_class_and_serial() -> None:
    parsed = parse_component_id("32041101002000123")
    assert parsed == ComponentId("320411", "01002", "000123")
    assert parsed.edition is Edition.CURRENT
    assert str(parsed) == "32041101002000123"


def test_a_16_digit_id_is_county_four_digit_class_and_serial() -> None:
    parsed = parse_component_id("3205080101000001")
    assert parsed == ComponentId("320508", "0101", "000001")
    assert parsed.edition is Edition.LEGACY


@pytest.mark.parametrize(
    "value",
    [
        "",
        "320411010020001",
        "320411010020001234",
        "3204110100200012X",
        "32041101002 00012",
        "３２０４１１０１００２０００１２",
    ],
    ids=["empty", "15-digits", "18-digits", "letter", "space", "full-width-digits"],
)
def test_malformed_ids_are_refused_with_the_rule(value: str) -> None:
    with pytest.raises(ValueError, match="16 digits"):
        parse_component_id(value)


def test_a_zero_serial_is_refused() -> None:
    with pytest.raises(ValueError, match="000000"):
        parse_component_id("32041101002000000")


def test_a_valid_id_of_its_county_and_class_has_no_problem() -> None:
    assert id_problems("32041101002000001", county_code=COUNTY, class_code="01002") == []
    assert id_problems("3204110101000001", county_code=COUNTY, class_code="0101") == []


def test_another_countys_id_is_refused() -> None:
    assert id_problems("32041201002000001", county_code=COUNTY, class_code="01002") == [
        ("object_id", "must start with the county code 320411")
    ]


def test_the_class_in_the_id_must_equal_the_class_code() -> None:
    assert id_problems("32041101002000001", county_code=COUNTY, class_code="01003") == [
        ("object_id", "the class in the id (01002) must equal class_code (01003)")
    ]
    # a legacy 16-digit id with a 2026 class code: the 4-digit class in the id differs
    assert id_problems("3204110101000001", county_code=COUNTY, class_code="01010") == [
        ("object_id", "the class in the id (0101) must equal class_code (01010)")
    ]


def test_wrong_county_and_wrong_class_are_both_listed() -> None:
    problems = id_problems("32041201002000001", county_code=COUNTY, class_code="01003")
    assert [f for f, _ in problems] == ["object_id", "object_id"]


@pytest.mark.parametrize("value", ["3204110100200000A", "32041101002", 32041101002000001, None])
def test_non_digit_or_non_text_ids_name_the_rule(value: object) -> None:
    assert id_problems(value, county_code=COUNTY, class_code="01002") == [("object_id", ID_RULE)]


@pytest.mark.parametrize("klass", ["010", "010020", "01A02", ""])
def test_a_malformed_class_code_is_listed_with_the_id_checks(klass: str) -> None:
    problems = id_problems("32041101002000001", county_code=COUNTY, class_code=klass)
    assert (
        "class_code",
        "must be a class code: 4 digits (GB/T 30428.2) or 5 digits (GB/T 47678.5)",
    ) in problems
    assert all(f == "class_code" for f, _ in problems)  # no mismatch reported against a bad class


def test_without_a_class_code_only_the_id_is_checked() -> None:
    assert id_problems("32041201002000001", county_code=COUNTY, class_code=None) == [
        ("object_id", "must start with the county code 320411")
    ]


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_published_credit_codes_pass(code: str) -> None:
    assert credit_code_rule(code) is None
    assert credit_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18-character"),
        ("91350100M00010OY43", "18-character"),  # O is not used
        ("91ABCDEFM000100Y43", "18-character"),  # characters 3-8 are a division code
    ],
)
def test_malformed_credit_codes_name_the_rule(code: str, rule: str) -> None:
    broken = credit_code_rule(code)
    assert broken is not None and rule in broken

"""Code rules for streets, communities and unit grids (domain.md §2), one standard at a time."""

from __future__ import annotations

import pytest

from citylead.geography.codes import (
    GridStandard,
    community_code_problems,
    grid_code_problems,
    grid_standard,
    street_code_problems,
    street_kind,
)
from citylead.geography.models import StreetKind

COUNTY = "320411"
STREET = "320411001"
COMMUNITY = "320411001002"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("320411001", StreetKind.STREET),
        ("320411099", StreetKind.STREET),
        ("320411100", StreetKind.TOWN),
        ("320411199", StreetKind.TOWN),
        ("320411200", StreetKind.TOWNSHIP),
        ("320411399", StreetKind.TOWNSHIP),
        ("320411000", None),
        ("320411400", None),
        ("32041100A", None),
    ],
)
def test_street_kind_follows_the_last_three_digits(code: str, kind: StreetKind | None) -> None:
    assert street_kind(code) is kind


def test_street_codes() -> None:
    assert street_code_problems("320411101", COUNTY) == []
    assert street_code_problems("320412001", COUNTY) == [
        "a street/town code must start with the county code 320411"
    ]
    assert street_code_problems("320411500", COUNTY) == [
        "the last 3 digits must be 001–099 (街道), 100–199 (镇) or 200–399 (乡)"
    ]
    for bad in ("32041100", "3204110011", "32041100x", 320411001, None):
        assert street_code_problems(bad, COUNTY) == [
            "a street/town code is 9 digits: the county code and 3 digits"
        ]


def test_community_codes() -> None:
    assert community_code_problems(COMMUNITY, STREET) == []
    assert community_code_problems("320411002002", STREET) == [
        "a community/village code must start with its street code 320411001"
    ]
    assert community_code_problems("320411001000", STREET) == ["the last 3 digits must be 001–999"]
    assert community_code_problems("32041100100A", STREET) == [
        "a community/village code is 12 digits: the street code and 3 digits"
    ]


@pytest.mark.parametrize(
    ("code", "standard"),
    [
        ("32041100100201", GridStandard.CJT_213),
        ("320411001002001", GridStandard.GBT_30428),
        ("32041100100200A", GridStandard.GBT_47678),
        ("A20411001002001", GridStandard.GBT_47678),
        ("ZZZZZZZZZZZZZZZ", GridStandard.GBT_47678),
        ("3204110010020A", None),  # 14 characters must be digits
        ("3204110010020011", None),  # 16
        ("320411001002", None),  # 12: a community code, not a grid
        ("32041100100200a", None),  # lower case
        ("32041100100200-", None),
    ],
)
def test_the_three_forms_are_told_apart(code: str, standard: GridStandard | None) -> None:
    assert grid_standard(code) is standard


def test_cjt_213_fourteen_digits() -> None:
    assert grid_code_problems("32041100100207", COUNTY, street_code=STREET, community_code=COMMUNITY) == []
    assert grid_code_problems("32041100100207", COUNTY) == []  # street and community taken from the code


def test_gbt_30428_fifteen_digits() -> None:
    assert grid_code_problems("320411001002017", COUNTY, street_code=STREET, community_code=COMMUNITY) == []


def test_gbt_47678_fifteen_characters_with_a_letter_skips_the_structure() -> None:
    assert grid_code_problems("K7Q2M9X4B1C8D3E", COUNTY, street_code=STREET, community_code=COMMUNITY) == []


@pytest.mark.parametrize("code", ["32041200100201", "320412001002001"])
def test_digit_forms_must_start_with_the_county(code: str) -> None:
    standard = GridStandard.CJT_213 if len(code) == 14 else GridStandard.GBT_30428
    assert grid_code_problems(code, COUNTY, street_code=STREET, community_code=COMMUNITY) == [
        f"a {standard} grid code must start with the county code 320411"
    ]


def test_digit_forms_must_agree_with_street_and_community() -> None:
    wrong_street = grid_code_problems("320411002002001", COUNTY, street_code=STREET, community_code=COMMUNITY)
    assert wrong_street == [
        "digits 7–9 (002) of a GB/T 30428.1 grid code must be those of its street 320411001",
        "digits 10–12 (002) of a GB/T 30428.1 grid code must be those of its community 320411001002",
    ]
    wrong_community = grid_code_problems(
        "32041100100301", COUNTY, street_code=STREET, community_code=COMMUNITY
    )
    assert wrong_community == [
        "digits 10–12 (003) of a CJ/T 213 grid code must be those of its community 320411001002"
    ]


def test_sequence_zero_is_refused() -> None:
    assert grid_code_problems("320411001002000", COUNTY) == ["the sequence number of a grid code starts at 1"]
    assert grid_code_problems("32041100100200", COUNTY) == ["the sequence number of a grid code starts at 1"]


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("32041100100200a", "a grid code has only digits 0–9 and capital letters A–Z"),
        ("3204110010020 1", "a grid code has only digits 0–9 and capital letters A–Z"),
        ("320411001002-01", "a grid code has only digits 0–9 and capital letters A–Z"),
        ("３２０４１１００１００２００１", "a grid code has only digits 0–9 and capital letters A–Z"),
        ("3204110010020A", "a 14-character grid code (CJ/T 213) has digits only"),
        (
            "3204110010020011",
            "a grid code is 14 digits (CJ/T 213), 15 digits (GB/T 30428.1) or 15 characters with a "
            "letter (GB/T 47678); got 16 characters",
        ),
        ("", "a grid code is a string of 14 or 15 characters"),
        (320411001002001, "a grid code is a string of 14 or 15 characters"),
    ],
)
def test_bad_characters_and_lengths(code: object, rule: str) -> None:
    assert grid_code_problems(code, COUNTY) == [rule]

"""Code rules for streets, communities and unit grids (domain.md §2). Pure functions: each returns
the rules a code breaks, in words, so an import can list every problem at once.

- street/town (街道/镇/乡): county code (GB/T 2260, 6 digits) + 3 digits: 001–099 街道,
  100–199 镇, 200–399 乡 (GB/T 10114). Anything else is refused.
- community/village (社区/村): street code + 3 digits, 001–999.
- unit grid (单元网格), three forms told apart by length and alphabet:
  - CJ/T 213-2005: 14 digits = county 6 + street 3 + community 3 + sequence 2;
  - GB/T 30428.1 / DB11: 15 digits = county 6 + street 3 + community 3 + sequence 3;
  - GB/T 47678-2026: 15 characters ``[0-9A-Z]`` with **at least one letter**. A 15-character code
    of digits only is read as GB/T 30428.1 and must match the county, street and community.
  For the digit forms the code must start with the county code and contain the grid's street and
  community codes. A GB/T 47678 code's inner structure is not checked: its street and community
  are given separately.
"""

from __future__ import annotations

import enum
import re

from citylead.geography.models import StreetKind

__all__ = [
    "GridStandard",
    "community_code_problems",
    "grid_code_problems",
    "grid_standard",
    "street_code_problems",
    "street_kind",
]

_DIGITS = re.compile(r"^[0-9]+$")
_GRID_CHARS = re.compile(r"^[0-9A-Z]+$")


class GridStandard(enum.StrEnum):
    CJT_213 = "CJ/T 213"
    GBT_30428 = "GB/T 30428.1"
    GBT_47678 = "GB/T 47678"


def street_kind(code: str) -> StreetKind | None:
    """The kind a street/town code's last 3 digits mean, or None outside 001–399."""
    suffix = code[6:9]
    if len(code) != 9 or not _DIGITS.match(code):
        return None
    n = int(suffix)
    if 1 <= n <= 99:
        return StreetKind.STREET
    if 100 <= n <= 199:
        return StreetKind.TOWN
    if 200 <= n <= 399:
        return StreetKind.TOWNSHIP
    return None


def street_code_problems(code: object, county_code: str) -> list[str]:
    if not isinstance(code, str) or len(code) != 9 or not _DIGITS.match(code):
        return ["a street/town code is 9 digits: the county code and 3 digits"]
    problems = []
    if not code.startswith(county_code):
        problems.append(f"a street/town code must start with the county code {county_code}")
    if street_kind(code) is None:
        problems.append("the last 3 digits must be 001–099 (街道), 100–199 (镇) or 200–399 (乡)")
    return problems


def community_code_problems(code: object, street_code: str | None) -> list[str]:
    if not isinstance(code, str) or len(code) != 12 or not _DIGITS.match(code):
        return ["a community/village code is 12 digits: the street code and 3 digits"]
    problems = []
    if street_code is not None and not code.startswith(street_code):
        problems.append(f"a community/village code must start with its street code {street_code}")
    if code.endswith("000"):
        problems.append("the last 3 digits must be 001–999")
    return problems


def grid_standard(code: str) -> GridStandard | None:
    """Which standard's form the code has (not whether it fits its county), or None."""
    if not _GRID_CHARS.match(code):
        return None
    digits = bool(_DIGITS.match(code))
    if len(code) == 14 and digits:
        return GridStandard.CJT_213
    if len(code) == 15:
        return GridStandard.GBT_30428 if digits else GridStandard.GBT_47678
    return None


def grid_code_problems(
    code: object, county_code: str, *, street_code: str | None = None, community_code: str | None = None
) -> list[str]:
    """The rules ``code`` breaks for a grid of ``county_code`` in the given street and community
    (for the digit forms, a missing street or community is taken from the code itself)."""
    if not isinstance(code, str) or not code:
        return ["a grid code is a string of 14 or 15 characters"]
    if not _GRID_CHARS.match(code):
        return ["a grid code has only digits 0–9 and capital letters A–Z"]
    standard = grid_standard(code)
    if standard is None:
        if len(code) == 14:
            return ["a 14-character grid code (CJ/T 213) has digits only"]
        return [
            "a grid code is 14 digits (CJ/T 213), 15 digits (GB/T 30428.1) or 15 characters "
            f"with a letter (GB/T 47678); got {len(code)} characters"
        ]
    if standard is GridStandard.GBT_47678:
        return []
    if not code.startswith(county_code):
        return [f"a {standard} grid code must start with the county code {county_code}"]
    problems = []
    if street_code is not None and code[:9] != street_code:
        problems.append(
            f"digits 7–9 ({code[6:9]}) of a {standard} grid code must be those of its street {street_code}"
        )
    if community_code is not None and code[:12] != community_code:
        problems.append(
            f"digits 10–12 ({code[9:12]}) of a {standard} grid code must be those of its "
            f"community {community_code}"
        )
    if int(code[12:]) == 0:
        problems.append("the sequence number of a grid code starts at 1")
    return problems

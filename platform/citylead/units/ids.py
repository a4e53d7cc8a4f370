"""Identifier rules: component object ids (部件编码), credit codes (统一社会信用代码), unit codes.

Pure functions returning the rule a value breaks (or None), so the import can list every problem.

- GB/T 30428.2-2013 (legacy): 16 digits = 6 county + 4 class + 6 serial (``3205080101000001``).
- GB/T 47678.5-2026 (current): 17 digits = 6 county + 5 class + 6 serial (``32041101002000001``).
- GB 32100-2015 credit code: 18 characters from ``0-9A-HJ-NPQRTUWXY`` (no I, O, S, V, Z); characters
  3–8 are the registering authority's division code; the last is a check character, mod 31.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from citylead.units.models import Edition

__all__ = [
    "CLASS_RULE",
    "ID_RULE",
    "ComponentId",
    "credit_check_char",
    "credit_code_rule",
    "id_problems",
    "parse_component_id",
]

ID_RULE = (
    "must be 16 digits (GB/T 30428.2: county 6 + class 4 + serial 6) "
    "or 17 digits (GB/T 47678.5: county 6 + class 5 + serial 6)"
)
CLASS_RULE = "must be a class code: 4 digits (GB/T 30428.2) or 5 digits (GB/T 47678.5)"
_CLASS_DIGITS = {16: 4, 17: 5}
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]


@dataclass(frozen=True, slots=True)
class ComponentId:
    county: str
    class_code: str
    serial: str

    @property
    def edition(self) -> Edition:
        return Edition.CURRENT if len(self.class_code) == 5 else Edition.LEGACY

    def __str__(self) -> str:
        return self.county + self.class_code + self.serial


def parse_component_id(value: str) -> ComponentId:
    """Split an object id into county, class and serial; ValueError (with the rule) if malformed."""
    if not (value.isascii() and value.isdigit() and len(value) in _CLASS_DIGITS):
        raise ValueError(ID_RULE)
    width = _CLASS_DIGITS[len(value)]
    parsed = ComponentId(value[:6], value[6 : 6 + width], value[6 + width :])
    if parsed.serial == "000000":
        raise ValueError("the serial (last 6 digits) must not be 000000")
    return parsed


def id_problems(object_id: object, *, county_code: str, class_code: object) -> list[tuple[str, str]]:
    """(field, rule) for everything wrong with an id in a county's inventory and its class code
    (``class_code`` None: not given, so only the id is checked)."""
    problems: list[tuple[str, str]] = []
    klass = class_code if isinstance(class_code, str) else ""
    klass_ok = re.fullmatch(r"\d{4,5}", klass) is not None
    if class_code is not None and not klass_ok:
        problems.append(("class_code", CLASS_RULE))
    if not isinstance(object_id, str):
        return [("object_id", ID_RULE), *problems]
    try:
        parsed = parse_component_id(object_id)
    except ValueError as exc:
        return [("object_id", str(exc)), *problems]
    if parsed.county != county_code:
        problems.append(("object_id", f"must start with the county code {county_code}"))
    if klass_ok and parsed.class_code != klass:
        problems.append(
            ("object_id", f"the class in the id ({parsed.class_code}) must equal class_code ({klass})")
        )
    return problems


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_rule(value: str) -> str | None:
    """None if ``value`` is a well-formed unified social credit code, else the rule it breaks."""
    if not _CREDIT.match(value):
        return "must be an 18-character unified social credit code (GB 32100: 0-9 and A-Y without I O S V Z)"
    if credit_check_char(value[:17]) != value[17]:
        return "the check character (the 18th) of the unified social credit code is wrong"
    return None

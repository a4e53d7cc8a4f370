"""Validation rules of units and inventory rows: pure functions that list every problem.

Units: code ``^[A-Za-z0-9_-]{1,32}$``; kind sector (专业部门), territorial (属地街镇) or shopfront
(门前三包); a sector unit names its department type; territorial and shop-front units name the
9-digit street/town code they answer for, inside the tenant; ``classes`` are ``component:`` or
``matter:`` plus a class prefix; ``credit_code`` is a GB 32100 unified social credit code.

Inventory rows: the object id in the county and of the row's class (``citylead.units.ids``), the
class a component class of the county's effective catalogue, owner and maintainer among the units
the county may name, lon/lat inside China, codes nested county → street → community → grid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from citylead.units._formats import RawRow
from citylead.units.ids import credit_code_rule, id_problems
from citylead.units.models import ComponentState, Edition, UnitKind
from tenants.errors import FieldProblem
from tenants.models import Tenant
from tenants.standards.layers import Effective

__all__ = ["LAT_RANGE", "LON_RANGE", "check_row", "validate_unit"]

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CLASS = re.compile(r"^(component|matter):\d{2}(\d{2,3}(-\d{2})?)?$")
_ACCOUNT = re.compile(r"^[^\s/]{1,255}$")

# Mainland China and its islands, in WGS84 / CGCS2000 degrees: catches swapped or projected values.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)
_GRID = re.compile(r"^(\d{14}|[0-9A-Z]{15})$")  # CJ/T 213, GB/T 30428.1, GB/T 47678
_TEXT_LIMITS = {"name": 64, "competent_department": 64, "source": 64, "note": 2000}
Bad = Callable[[str, str | None, Any], None]  # records (field, rule, value) when rule is not None


def _prefix(tenant: Tenant) -> str:
    """The digits every street code of the tenant starts with: ``/32/3204/320411/`` → ``320411``."""
    return tenant.path.rstrip("/").rsplit("/", 1)[-1]


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be non-empty text"
    return f"must be at most {limit} characters" if len(value) > limit else None


def validate_unit(tenant: Tenant, values: Mapping[str, Any]) -> list[FieldProblem]:
    """Every rule the unit's (complete) values break, as field problems."""
    problems: list[FieldProblem] = []

    def bad(field: str, rule: str | None, value: Any) -> None:
        if rule:
            problems.append(FieldProblem(field, rule, value))

    code = values.get("code")
    bad(
        "code",
        None if isinstance(code, str) and _CODE.match(code) else "must match ^[A-Za-z0-9_-]{1,32}$",
        code,
    )
    bad("name", _text(values.get("name"), 64), values.get("name"))
    kind = values.get("kind")
    if kind not in UnitKind._value2member_map_:
        bad("kind", "must be sector (专业部门), territorial (属地街镇) or shopfront (门前三包)", kind)
    sector, street = values.get("sector"), values.get("street_code")
    if sector is not None or kind == UnitKind.SECTOR:
        bad(
            "sector",
            _text(sector, 32) and "a sector unit needs its department type (1–32 characters)",
            sector,
        )
    if street is not None or kind in (UnitKind.TERRITORIAL, UnitKind.SHOPFRONT):
        prefix = _prefix(tenant)
        ok = isinstance(street, str) and re.fullmatch(r"\d{9}", street) and street.startswith(prefix)
        rule = f"must be a 9-digit street/town code starting with {prefix}"
        bad("street_code", None if ok else rule + " (territorial and shop-front units need one)", street)
    classes = values.get("classes")
    if not isinstance(classes, list):
        bad("classes", "must be a list", classes)
    else:
        for i, c in enumerate(classes):
            ok = isinstance(c, str) and _CLASS.match(c) is not None
            bad(f"classes/{i}", None if ok else 'must be "component:" or "matter:" and a class prefix', c)
    accounts = values.get("accounts")
    if not isinstance(accounts, list):
        bad("accounts", "must be a list of usernames", accounts)
    else:
        for i, a in enumerate(accounts):
            bad(
                f"accounts/{i}", None if isinstance(a, str) and _ACCOUNT.match(a) else "must be a username", a
            )
        if len(set(map(str, accounts))) != len(accounts):
            bad("accounts", "must not repeat a username", accounts)
    credit = values.get("credit_code")
    if credit is not None:
        bad("credit_code", credit_code_rule(credit) if isinstance(credit, str) else "must be text", credit)
    contact = values.get("contact")
    if contact is not None:
        bad("contact", _text(contact, 128), contact)
    if not isinstance(values.get("active", True), bool):
        bad("active", "must be true or false", values.get("active"))
    return problems


def _number(value: Any, low: float, high: float) -> tuple[float | None, str | None]:
    try:
        number = (
            float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
        )
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        return None, "must be a number"
    if not low <= number <= high:
        return None, f"must be from {low:g} to {high:g} (WGS84/CGCS2000 degrees, within China)"
    return number, None


def _date(value: Any) -> tuple[date | None, str | None]:
    try:
        return date.fromisoformat(value), None
    except (TypeError, ValueError):
        return None, "must be a date YYYY-MM-DD"


def _codes(row: dict[str, Any], out: dict[str, Any], county: str, bad: Bad) -> None:
    street, community, grid = (row.get(k) for k in ("street_code", "community_code", "grid_code"))
    if street is not None:
        ok = isinstance(street, str) and re.fullmatch(r"\d{9}", street) and street.startswith(county)
        bad(
            "street_code",
            None if ok else f"must be a 9-digit street/town code starting with {county}",
            street,
        )
        out["street_code"] = street
    if community is not None:
        parent = street if isinstance(street, str) else county
        ok = (
            isinstance(community, str) and re.fullmatch(r"\d{12}", community) and community.startswith(parent)
        )
        bad(
            "community_code",
            None if ok else f"must be a 12-digit community code starting with {parent}",
            community,
        )
        out["community_code"] = community
    if grid is not None:
        ok = isinstance(grid, str) and _GRID.match(grid) is not None
        if ok and grid.isdigit():
            parent = street if isinstance(street, str) else county
            ok = grid.startswith(parent)
        rule = "must be a grid code (14 or 15 digits starting with the street code, or 15 of 0-9A-Z)"
        bad("grid_code", None if ok else rule, grid)
        out["grid_code"] = grid


def check_row(
    raw: RawRow,
    county: Tenant,
    catalog: Effective,
    units: dict[str, Any],
    problems: list[FieldProblem],
) -> dict[str, Any]:
    """The insertable values of one row; its problems are appended to ``problems``."""

    def bad(name: str, rule: str | None, value: Any) -> None:
        if rule:
            problems.append(FieldProblem(raw.at(name), rule, value))

    row: dict[str, Any] = {}
    for name, value in raw.values.items():
        if name in ("lon", "lat") or isinstance(value, str):
            row[name] = value
        else:
            bad(name, "must be text (write codes as strings: a JSON number loses digits)", value)
    for name in ("object_id", "class_code"):
        if raw.values.get(name) is None:
            bad(name, "is required", None)
    object_id, class_code = row.get("object_id"), row.get("class_code")
    out: dict[str, Any] = {"tenant_id": county.id, "object_id": object_id, "class_code": class_code}
    if object_id is not None:
        for name, broken in id_problems(object_id, county_code=county.code, class_code=class_code):
            bad(name, broken, row.get(name))
    class_name = catalog.value(f"catalog/component/{class_code}/name") if class_code else None
    if class_code and class_name is None and re.fullmatch(r"\d{4,5}", class_code):
        bad(
            "class_code",
            f"is not a component class in the catalogue of {county.name} ({county.code})",
            class_code,
        )
    out["edition"] = Edition.CURRENT.value if len(str(class_code)) == 5 else Edition.LEGACY.value
    out["name"] = row.get("name") or class_name or ""
    for name in ("lon", "lat"):
        low, high = LON_RANGE if name == "lon" else LAT_RANGE
        out[name], rule = _number(row.get(name), low, high)
        bad(name, "is required" if row.get(name) is None else rule, row.get(name))
    state = row.get("state", ComponentState.INTACT.value)
    try:
        out["state"] = ComponentState.parse(state).value
    except ValueError:
        bad("state", "must be intact 完好, damaged 破损, lost 丢失, abandoned 废弃 or removed 移除", state)
    _codes(row, out, county.code, bad)
    for role in ("owner", "maintainer"):
        code = row.get(f"{role}_unit")
        out[f"{role}_unit"], out[f"{role}_tenant_id"] = code, units.get(code) if code else None
        if code is not None and code not in units:
            bad(f"{role}_unit", f"must be a unit of {county.name} or of the tenants above it", code)
    for name in ("installed_on", "changed_on"):
        if row.get(name) is not None:
            out[name], rule = _date(row[name])
            bad(name, rule, row[name])
    if out.get("installed_on") and out.get("changed_on") and out["changed_on"] < out["installed_on"]:
        bad("changed_on", "must not be before installed_on", row["changed_on"])
    for name, limit in _TEXT_LIMITS.items():
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            bad(name, f"must be at most {limit} characters", value)
    out.update({k: row.get(k) for k in ("competent_department", "source", "note")})
    return out

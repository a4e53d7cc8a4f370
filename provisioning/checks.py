"""Checking an onboarding request (校验) and planning it (接入计划), changing nothing.

Every problem of every input is collected — the target and its parent, the template, the grids,
the units, the inventory, the first administrator, the template's standards overrides — so one
dry run shows all of them, each naming its file, place and rule. The plan says what each step
will do, with counts.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from citylead.geography.models import Street
from citylead.geography.validation import Checked as CheckedGeography
from citylead.geography.validation import check_geography
from citylead.units._formats import read_inventory
from citylead.units.inventory import MAX_ROWS, validate_rows
from citylead.units.validation import validate_unit
from provisioning.inputs import OnboardRequest, RawUnit, email_rule, prefixed, read_units
from provisioning.templates import Template, available_templates, load_template
from tenants.errors import FieldProblem, InvalidInput, UnsupportedMediaType
from tenants.models import Tenant, TenantLevel, TenantStatus
from tenants.standards.drafts import get_draft
from tenants.standards.layers import Source, validate_layer
from tenants.standards.resolver import Resolver

__all__ = ["Checked", "check_request", "planned_units", "territorial_units"]

_PARENT_LEVEL = {"county": TenantLevel.PREFECTURE_CITY, "city": TenantLevel.PROVINCE}
_WHAT = {"county": "county-level division (区/县级市/县)", "city": "city (地级市)"}


@dataclass
class Checked:
    """The outcome of a check: problems (empty means go), the plan, and what the steps reuse."""

    problems: list[FieldProblem] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    target: Tenant | None = None
    parent: Tenant | None = None
    template: Template | None = None
    geography: CheckedGeography | None = None
    units: list[dict[str, Any]] = field(default_factory=list)

    def raise_if_any(self, what: str) -> None:
        if self.problems:
            raise InvalidInput(
                f"{len(self.problems)} problem(s) in the request to onboard {what}; nothing was changed",
                errors=self.problems,
            )


async def check_request(
    session: AsyncSession,
    resolver: Resolver,
    request: OnboardRequest,
    *,
    parent_planned: bool = False,
    files: bool = True,
) -> Checked:
    """Check ``request`` in a context that sees the target and its parent (the target's own).

    ``parent_planned``: the parent city is onboarded earlier in the same manifest, so it need not
    be live yet (a manifest's dry run). ``files=False`` checks the target, template, administrator
    and overrides only (the pipeline's re-check: its import steps check their files again)."""
    out = Checked()
    await _target(session, request, out, parent_planned=parent_planned)
    target = out.target
    if target is None:
        out.problems += _shape_only(request)
        return out
    await _template(session, resolver, request, target, out)
    if bad := email_rule(request.admin_email):
        out.problems.append(FieldProblem("admin", bad, request.admin_email))
    await _overrides(session, resolver, target, out)
    if not files:
        return out
    streets = await _geography(session, request, target, out)
    await _units(request, target, streets, out)
    await _components(session, resolver, request, target, out)
    out.plan = _plan(request, out, streets)
    return out


async def _target(
    session: AsyncSession, request: OnboardRequest, out: Checked, *, parent_planned: bool
) -> None:
    parent_field = "city" if request.kind == "county" else "province"
    rows = (
        await session.scalars(
            select(Tenant)
            .where(Tenant.code.in_([request.code, request.parent]))
            .options(undefer(Tenant.boundary))
        )
    ).all()
    by_code = {t.code: t for t in rows}
    parent, target = by_code.get(request.parent), by_code.get(request.code)
    if parent is None or parent.level is not _PARENT_LEVEL[request.kind]:
        out.problems.append(
            FieldProblem(
                parent_field, f"there is no {parent_field} {request.parent} in the registry", request.parent
            )
        )
        parent = None
    elif request.kind == "county" and parent.status is not TenantStatus.LIVE and not parent_planned:
        out.problems.append(
            FieldProblem(
                "city",
                f"{parent.name} ({parent.code}) is {parent.status.label}: onboard the city first "
                f"(citylead onboard city {parent.code} --template city)",
                parent.code,
            )
        )
    if target is None:
        out.problems.append(
            FieldProblem(
                "code", f"there is no {_WHAT[request.kind]} {request.code} in the registry", request.code
            )
        )
        return
    wrong_level = (
        not target.level.is_division
        if request.kind == "county"
        else target.level is not TenantLevel.PREFECTURE_CITY
    )
    if wrong_level:
        out.problems.append(
            FieldProblem(
                "code",
                f"{target.name} ({target.code}) is a {target.level.label}, not a {_WHAT[request.kind]}",
                target.code,
            )
        )
        return
    if parent is not None and target.parent_id != parent.id:
        actual = await session.scalar(select(Tenant.code).where(Tenant.id == target.parent_id))
        out.problems.append(
            FieldProblem(
                "code",
                f"{target.name} ({target.code}) is not under {parent.name} ({parent.code}); "
                f"it belongs to {actual}",
                target.code,
            )
        )
        return
    if target.status is TenantStatus.LIVE:
        since = f" since {target.live_since:%Y-%m-%d}" if target.live_since else ""
        out.problems.append(
            FieldProblem("code", f"{target.name} ({target.code}) is already live{since}", target.code)
        )
        return
    if target.status is TenantStatus.SUSPENDED:
        out.problems.append(
            FieldProblem(
                "code", f"{target.name} ({target.code}) is suspended (已停用): resume it instead", target.code
            )
        )
        return
    # ONBOARDING is fine: an earlier job stopped half-way, and every step is idempotent.
    out.target, out.parent = target, parent


def _shape_only(request: OnboardRequest) -> list[FieldProblem]:
    """Without a target, the files can still be checked for their shape."""
    problems: list[FieldProblem] = []
    if request.files.get("units") is not None:
        _, shape = read_units(request.files["units"].content, request.files["units"].media_type)
        problems += prefixed("units", shape)
    if bad := email_rule(request.admin_email):
        problems.append(FieldProblem("admin", bad, request.admin_email))
    return problems


async def _template(
    session: AsyncSession, resolver: Resolver, request: OnboardRequest, target: Tenant, out: Checked
) -> None:
    template = await load_template(session, resolver, target, request.template)
    if template is None:
        names = ", ".join(await available_templates(session, resolver, target)) or "none published"
        out.problems.append(
            FieldProblem(
                "template",
                f"no template {request.template!r} for {target.code}; there are: {names}",
                request.template,
            )
        )
        return
    if target.level.value not in template.levels:
        out.problems.append(
            FieldProblem(
                "template",
                f"template {template.name} ({template.label}) is for {', '.join(template.levels)}, "
                f"not a {target.level.label} ({target.level.value})",
                request.template,
            )
        )
    out.template = template


async def _geography(
    session: AsyncSession, request: OnboardRequest, target: Tenant, out: Checked
) -> set[str]:
    """The street codes the division will have (from the grids file, else its current geography)."""
    grids = request.files.get("grids")
    if request.kind == "city":
        if grids is not None:
            out.problems.append(
                FieldProblem("grids", "a city keeps no grids: its divisions do", grids.filename)
            )
        return set()
    if grids is None:
        existing = set(
            (await session.scalars(select(Street.code).where(Street.tenant_id == target.id))).all()
        )
        if not existing:
            out.problems.append(
                FieldProblem(
                    "grids",
                    "required: the division has no geography yet "
                    "(it takes cases only once its grids are imported)",
                )
            )
        return existing
    try:
        collection = json.loads(grids.content)
    except (UnicodeDecodeError, ValueError):
        out.problems.append(FieldProblem("grids: file", "must be a GeoJSON document", grids.filename))
        return set()
    if target.boundary is None:
        out.problems.append(
            FieldProblem("code", "the registry has no boundary for this division", target.code)
        )
        return set()
    try:
        checked = await asyncio.to_thread(
            check_geography,
            collection,
            county_code=target.code,
            county_name=target.name,
            boundary=target.boundary,
        )
    except InvalidInput as exc:
        out.problems += prefixed("grids", exc.errors)
        return set()
    out.geography = checked
    return {s.code for s in checked.streets}


def territorial_units(target: Tenant, streets: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """One territorial unit (属地单位) per street or town: (code, name, kind) → unit values."""
    return [
        {
            "code": code,
            "name": name + ("办事处" if kind == "street" else "人民政府"),
            "kind": "territorial",
            "street_code": code,
            "classes": [],
            "accounts": [],
        }
        for code, name, kind in streets
    ]


def planned_units(
    target: Tenant, template: Template | None, territorial: list[dict[str, Any]], raw: list[RawUnit]
) -> list[dict[str, Any]]:
    """The units the division will have: the template's, one per street, then the file's (a code in
    the file replaces the template's unit of that code, and a territorial unit in the file replaces
    the one the template would make for its street: a street has one territorial unit)."""
    units: dict[str, dict[str, Any]] = {}
    own_streets = {item.values.get("street_code") for item in raw if item.values.get("kind") == "territorial"}
    territorial = [u for u in territorial if u["street_code"] not in own_streets]
    for spec in template.units if template else []:
        units[spec.code] = {
            "code": spec.code,
            "name": spec.name,
            "kind": "sector",
            "sector": spec.sector,
            "classes": spec.classes,
            "accounts": [],
        }
    if template is not None and template.territorial:
        units.update({u["code"]: u for u in territorial})
    for item in raw:
        units[str(item.values.get("code"))] = {"accounts": [], "classes": [], **item.values}
    return list(units.values())


async def _units(request: OnboardRequest, target: Tenant, streets: set[str], out: Checked) -> None:
    raw: list[RawUnit] = []
    file = request.files.get("units")
    if file is not None:
        raw, shape = read_units(file.content, file.media_type)
        out.problems += prefixed("units", shape)
        seen: dict[str, str] = {}
        for item in raw:
            out.problems += prefixed(
                "units",
                [
                    FieldProblem(f"{item.at}/{p.field}", p.rule, p.value)
                    for p in validate_unit(target, item.values)
                ],
            )
            code = item.values.get("code")
            if isinstance(code, str):
                if code in seen:
                    out.problems.append(FieldProblem(f"units: {item.at}/code", f"repeats {seen[code]}", code))
                seen.setdefault(code, f"{item.at}/code")
            street = item.values.get("street_code")
            if isinstance(street, str) and streets and street not in streets:
                out.problems.append(
                    FieldProblem(
                        f"units: {item.at}/street_code", "is not a street or town of the grids", street
                    )
                )
    geography = out.geography
    territorial = (
        territorial_units(target, [(s.code, s.name, s.kind) for s in geography.streets]) if geography else []
    )
    out.units = planned_units(target, out.template, territorial, raw)


async def _components(
    session: AsyncSession, resolver: Resolver, request: OnboardRequest, target: Tenant, out: Checked
) -> None:
    file = request.files.get("components")
    if file is None:
        return
    if request.kind == "city":
        out.problems.append(
            FieldProblem("components", "a city's inventory is imported by its divisions", file.filename)
        )
        return
    try:
        _, rows, shape = read_inventory(file.content, file.media_type)
    except UnsupportedMediaType as exc:
        out.problems.append(FieldProblem("components: file", exc.detail, file.media_type))
        return
    out.problems += prefixed("components", shape)
    if len(rows) > MAX_ROWS:
        out.problems.append(FieldProblem("components", f"at most {MAX_ROWS} objects per file", len(rows)))
        return
    codes = [str(u.get("code")) for u in out.units]
    _, problems = await validate_rows(session, resolver, target, rows, planned_units=codes)
    out.problems += prefixed("components", problems)
    out.plan["components"] = len(rows)


async def _overrides(session: AsyncSession, resolver: Resolver, target: Tenant, out: Checked) -> None:
    if out.template is None or out.parent is None:
        return
    for kind, values in out.template.overrides.items():
        draft = await get_draft(session, target, kind)
        layer = replace(draft.layer, source=Source(target.code, 0), values={**draft.layer.values, **values})
        upper = await resolver.effective(session, out.parent, kind)
        for v in validate_layer(target.code, layer, upper, kind):
            out.problems.append(FieldProblem(f"template: override/{v.path}", v.detail, v.value))


def _plan(request: OnboardRequest, out: Checked, streets: set[str]) -> dict[str, Any]:
    target, template, geo = out.target, out.template, out.geography
    assert target is not None
    kinds = Counter(u.get("kind") for u in out.units)
    plan: dict[str, Any] = {
        "target": {
            "code": target.code,
            "name": target.name,
            "level": target.level.value,
            "status": target.status.value,
        },
        "template": template.summary() if template else None,
        "geography": (
            {
                "streets": len(geo.streets),
                "communities": len(geo.communities),
                "grids": len(geo.grids),
                "area_km2": round(sum(g.area_m2 for g in geo.grids) / 1e6, 3),
            }
            if geo
            else {"kept": len(streets)}
        ),
        "units": {"total": len(out.units), **{str(k): n for k, n in sorted(kinds.items())}},
        "components": out.plan.get("components", 0),
        "identity": {
            "group": target.path.rstrip("/"),
            "roles": template.roles if template else [],
            "admin": request.admin_email,
        },
        "standards": {k.value: len(v) for k, v in template.overrides.items()} if template else {},
    }
    return plan

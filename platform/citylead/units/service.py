"""Units (责任单位): create, change, deactivate, list, fetch. Fetch only through :func:`access_unit`.

Actions write in the tenant they are given, and the caller's transaction must be in that tenant's
own context (row-level security lets a tenant write only its rows): a city creates its city-level
departments in the city, a county its own. Reads follow the lineage: a county sees its city's units.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.units.models import Unit, UnitKind
from citylead.units.validation import validate_unit
from tenants import audit
from tenants.context import TenantContext
from tenants.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.service import access_tenant_by_code

__all__ = [
    "UNIT_FIELDS",
    "UnitPage",
    "access_unit",
    "do_create_unit",
    "do_deactivate_unit",
    "do_update_unit",
    "lineage",
    "lineage_ids",
    "list_units",
    "units_of_account",
]

UNIT_FIELDS = (
    "name",
    "kind",
    "sector",
    "street_code",
    "classes",
    "accounts",
    "credit_code",
    "contact",
    "active",
)


@dataclass(frozen=True)
class UnitPage:
    items: list[Unit]
    total: int
    page: int
    page_size: int


async def lineage(session: AsyncSession, tenant: Tenant) -> list[Tenant]:
    """The tenant and its ancestors, nearest first."""
    rows = await session.scalars(
        select(Tenant)
        .where(func.starts_with(tenant.path, Tenant.path))
        .order_by(func.length(Tenant.path).desc())
    )
    return list(rows)


async def lineage_ids(session: AsyncSession, tenant: Tenant) -> list[uuid.UUID]:
    """Ids of the tenant and its ancestors, nearest first."""
    return [t.id for t in await lineage(session, tenant)]


async def access_unit(session: AsyncSession, scope: TenantContext, tenant_code: str, unit_code: str) -> Unit:
    """Unit ``unit_code`` of tenant ``tenant_code`` if the scope may see it (its subtree and its
    ancestors); the same NotFound for "not visible" and "missing"."""
    tenant = (await access_tenant_by_code(session, scope, tenant_code, ancestors=True)).tenant
    unit = await session.scalar(select(Unit).where(Unit.tenant_id == tenant.id, Unit.code == unit_code))
    if unit is None:
        raise NotFound(f"no unit {unit_code} in {tenant_code}")
    return unit


async def units_of_account(session: AsyncSession, username: str) -> list[Unit]:
    """The units a department user acts for, among the rows the transaction may see (its own
    tenant's, its ancestors' and its subtree's). Deactivated units are included, flagged
    ``active=False``: they receive no new cases but may still hold open ones."""
    rows = await session.scalars(
        select(Unit).where(Unit.accounts.contains([username])).order_by(Unit.tenant_id, Unit.code)
    )
    return list(rows)


async def list_units(
    session: AsyncSession,
    tenants: list[Tenant],
    *,
    kind: UnitKind | None = None,
    sector: str | None = None,
    street_code: str | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 100,
) -> UnitPage:
    """Units of the given tenants (already scoped by the caller), by code, filtered and paginated."""
    query = select(Unit).where(Unit.tenant_id.in_([t.id for t in tenants]))
    if kind is not None:
        query = query.where(Unit.kind == kind.value)
    if sector is not None:
        query = query.where(Unit.sector == sector)
    if street_code is not None:
        query = query.where(Unit.street_code == street_code)
    if active is not None:
        query = query.where(Unit.active.is_(active))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(Unit.code, Unit.tenant_id).limit(page_size).offset((page - 1) * page_size)
    )
    return UnitPage(list(rows), int(total or 0), page, page_size)


def _normalized(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in ("name", "sector", "street_code", "credit_code", "contact"):
        if isinstance(out.get(name), str):
            out[name] = out[name].strip()
    return out


async def _territory_taken(session: AsyncSession, tenant: Tenant, values: Mapping[str, Any]) -> str | None:
    if values.get("kind") != UnitKind.TERRITORIAL or not values.get("active", True):
        return None
    other = await session.scalar(
        select(Unit.code).where(
            Unit.tenant_id == tenant.id,
            Unit.kind == UnitKind.TERRITORIAL.value,
            Unit.active.is_(True),
            Unit.street_code == values.get("street_code"),
            Unit.code != values.get("code"),
        )
    )
    return str(other) if other else None


async def _check(session: AsyncSession, tenant: Tenant, values: Mapping[str, Any]) -> None:
    problems = validate_unit(tenant, values)
    if not problems and (other := await _territory_taken(session, tenant, values)):
        rule = f"already has the active territorial unit {other}: one responsible unit per street/town"
        problems.append(FieldProblem("street_code", rule, values.get("street_code")))
    if problems:
        raise InvalidInput(f"the unit breaks {len(problems)} rule(s)", errors=problems)


async def _flush(session: AsyncSession, what: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent writer won the race the checks could not see
        raise Conflict(f"{what} conflicts with a change made at the same time") from exc


async def do_create_unit(
    session: AsyncSession, tenant: Tenant, values: Mapping[str, Any], *, acting_user: str
) -> Unit:
    """Create a unit of ``tenant`` (code, name, kind, and the optional fields of ``UNIT_FIELDS``)."""
    unknown = sorted(set(values) - {"code", *UNIT_FIELDS})
    if unknown:
        raise InvalidInput(
            "unknown unit fields", errors=[FieldProblem(k, "is not a unit field", None) for k in unknown]
        )
    defaults = {"classes": [], "accounts": [], "active": True, "sector": None, "street_code": None}
    data = _normalized({**defaults, **values})
    await _check(session, tenant, data)
    exists = await session.scalar(
        select(Unit.code).where(Unit.tenant_id == tenant.id, Unit.code == data["code"])
    )
    if exists:
        raise Conflict(f"unit {data['code']} already exists in {tenant.code}")
    unit = Unit(tenant_id=tenant.id, version=1, **{k: data.get(k) for k in ("code", *UNIT_FIELDS)})
    session.add(unit)
    await _flush(session, f"unit {data['code']}")
    await audit.record(
        session,
        tenant.id,
        actor=acting_user,
        action="unit.created",
        subject=f"unit:{tenant.code}/{unit.code}",
        values={k: data.get(k) for k in UNIT_FIELDS},
    )
    return unit


async def _locked(session: AsyncSession, tenant: Tenant, code: str, expected_version: int) -> Unit:
    unit = await session.scalar(
        select(Unit).where(Unit.tenant_id == tenant.id, Unit.code == code).with_for_update()
    )
    if unit is None:
        raise NotFound(f"no unit {code} in {tenant.code}")
    if unit.version != expected_version:
        raise Conflict(
            f"unit {code} was changed by someone else (version {unit.version}, you sent {expected_version})",
            current_version=unit.version,
        )
    return unit


async def do_update_unit(
    session: AsyncSession,
    tenant: Tenant,
    code: str,
    changes: Mapping[str, Any],
    *,
    expected_version: int,
    acting_user: str,
) -> Unit:
    """Change some fields of a unit; a stale ``expected_version`` raises Conflict (409)."""
    return await _change(session, tenant, code, changes, expected_version, acting_user, "unit.updated")


async def do_deactivate_unit(
    session: AsyncSession, tenant: Tenant, code: str, *, expected_version: int, acting_user: str
) -> Unit:
    """Take a unit out of routing (停用). It stays on record: cases and components name it."""
    changes = {"active": False}
    return await _change(session, tenant, code, changes, expected_version, acting_user, "unit.deactivated")


async def _change(
    session: AsyncSession,
    tenant: Tenant,
    code: str,
    changes: Mapping[str, Any],
    expected_version: int,
    acting_user: str,
    action: str,
) -> Unit:
    unknown = sorted(set(changes) - set(UNIT_FIELDS))
    if unknown:
        raise InvalidInput(
            "unknown unit fields", errors=[FieldProblem(k, "is not a unit field", None) for k in unknown]
        )
    unit = await _locked(session, tenant, code, expected_version)
    current = {k: getattr(unit, k) for k in ("code", *UNIT_FIELDS)}
    data = _normalized({**current, **changes})
    await _check(session, tenant, data)
    changed = {k: data[k] for k in UNIT_FIELDS if data[k] != current[k]}
    for name, value in changed.items():
        setattr(unit, name, value)
    unit.version += 1
    await _flush(session, f"unit {code}")
    await audit.record(
        session,
        tenant.id,
        actor=acting_user,
        action=action,
        subject=f"unit:{tenant.code}/{code}",
        changes=changed,
        version=unit.version,
    )
    return unit

"""Suspend (停用) and resume (恢复) a tenant: live → suspended → live.

A suspended tenant is read-only, and so is everything below it: ``citylead_enter`` makes every
transaction in its context (or a descendant's) read-only, so any write fails in the database with
SQLSTATE 25006, whatever code issued it; a trigger refuses writes that reach its cases from other
contexts (migration 0012, docs/lifecycle.md). Cases keep their history: nothing is deleted.

Both actions run in the *caller's* transaction, whose context must be an ancestor of the tenant
(its city, or the province): the tenant's own context may be read-only, and a tenant may update
only its own row. ``citylead_tenant_set_status`` makes the change, checks that the caller's context
lies strictly above the tenant, and writes the event into the tenant's own audit trail (so the
county, its city and its province read it, and it goes into the county's export).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.identity.principal import Principal, Role
from tenants.errors import (
    READ_ONLY_SQLSTATE,
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    TenantSuspended,
)
from tenants.models import Tenant, TenantLevel, TenantStatus

__all__ = [
    "LIFECYCLE_ROLES",
    "TenantSuspended",
    "do_resume",
    "do_suspend",
    "is_read_only_error",
    "refuse_province",
    "require_admin_above",
    "require_writable",
]

LIFECYCLE_ROLES = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN)
MAX_REASON = 500

_SET_STATUS = text("SELECT citylead_tenant_set_status(:id, :to, :actor, CAST(:data AS jsonb))")
_CONTEXT = text(
    "SELECT current_setting('app.path', true), current_setting('transaction_read_only'), "
    "current_setting('app.suspended', true)"
)


def is_read_only_error(exc: BaseException) -> bool:
    """A database error raised because the transaction was read-only (a suspended tenant)."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == READ_ONLY_SQLSTATE


def require_admin_above(principal: Principal, tenant: Tenant) -> None:
    """An administrator strictly above ``tenant``: its city's ``city_admin`` or the
    ``province_admin`` (the caller has already checked that ``tenant`` is in their subtree)."""
    if principal.tenant_path == tenant.path or not tenant.path.startswith(principal.tenant_path):
        raise Forbidden(f"only an administrator above {tenant.name} ({tenant.code}) may suspend or resume it")
    if not principal.has_any(*LIFECYCLE_ROLES):
        raise Forbidden("suspending and resuming need the city_admin or province_admin role")


async def require_writable(session: AsyncSession) -> str:
    """The caller's context path, if its transaction may write; TenantSuspended naming the
    suspended tenant otherwise (the caller's own tenant or one above it)."""
    path, read_only, suspended = (await session.execute(_CONTEXT)).one()
    if read_only == "on":
        who = suspended or "this tenant or one above it"
        raise TenantSuspended(
            f"{who} is suspended (已停用): its data can be read but not changed", tenant=suspended or None
        )
    return str(path or "")


def refuse_province(tenant: Tenant) -> None:
    """The province is never suspended: nothing above it could resume it (409)."""
    if tenant.level is TenantLevel.PROVINCE:
        raise Conflict(f"{tenant.name} ({tenant.code}) is the province: it cannot be suspended")


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(
            "a suspension needs a reason",
            errors=[FieldProblem("reason", f"1–{MAX_REASON} characters", len(reason))],
        )
    return reason


async def _set_status(
    session: AsyncSession, tenant: Tenant, to: TenantStatus, *, acting_user: str, data: dict[str, Any]
) -> Tenant:
    caller = await require_writable(session)
    if not caller or caller == tenant.path or not tenant.path.startswith(caller):
        raise Forbidden(f"{tenant.name} ({tenant.code}) is not below the acting tenant")
    version = await session.scalar(
        _SET_STATUS,
        {"id": tenant.id, "to": to.value, "actor": acting_user, "data": json.dumps(data, ensure_ascii=False)},
    )
    if version is None:  # changed by someone else since we read it (the function re-reads it locked)
        await session.refresh(tenant)
        raise Conflict(
            f"{tenant.name} ({tenant.code}) is now {tenant.status.label} ({tenant.status.value})",
            tenant_status=tenant.status.value,
        )
    await session.refresh(tenant)
    return tenant


async def do_suspend(session: AsyncSession, tenant: Tenant, *, reason: str, acting_user: str) -> Tenant:
    """Suspend a live tenant (已上线 → 已停用). The session is in an ancestor's context."""
    reason = _check_reason(reason)
    refuse_province(tenant)
    if tenant.status is not TenantStatus.LIVE:
        raise Conflict(
            f"{tenant.name} ({tenant.code}) is {tenant.status.label} ({tenant.status.value}); "
            "only a live tenant can be suspended",
            tenant_status=tenant.status.value,
        )
    return await _set_status(
        session, tenant, TenantStatus.SUSPENDED, acting_user=acting_user, data={"reason": reason}
    )


async def do_resume(session: AsyncSession, tenant: Tenant, *, acting_user: str) -> Tenant:
    """Resume a suspended tenant (已停用 → 已上线). The session is in an ancestor's context."""
    if tenant.status is not TenantStatus.SUSPENDED:
        raise Conflict(
            f"{tenant.name} ({tenant.code}) is {tenant.status.label} ({tenant.status.value}); "
            "only a suspended tenant can be resumed",
            tenant_status=tenant.status.value,
        )
    return await _set_status(session, tenant, TenantStatus.LIVE, acting_user=acting_user, data={})

"""Reading the tenant tree within a scope. Fetch by code only through :func:`access_tenant_by_code`.

Row-level security already limits what the transaction sees; these functions scope explicitly as
well (two locks, not one), so a bug in either alone does not leak another tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tenants.context import TenantContext
from tenants.errors import NotFound
from tenants.models import Tenant, TenantLevel, TenantStatus

__all__ = ["TenantPage", "TenantRow", "access_tenant_by_code", "access_tenant_or_own", "list_tenants"]

_Parent = aliased(Tenant)


@dataclass(frozen=True)
class TenantRow:
    tenant: Tenant
    parent_code: str | None


@dataclass(frozen=True)
class TenantPage:
    items: list[TenantRow]
    total: int
    page: int
    page_size: int


def _in_scope(scope: TenantContext, *, ancestors: bool = False) -> Select[Tenant, str]:
    in_subtree = Tenant.path.op("^@")(scope.path)
    where = or_(in_subtree, func.starts_with(literal(scope.path), Tenant.path)) if ancestors else in_subtree
    return select(Tenant, _Parent.code).outerjoin(_Parent, Tenant.parent_id == _Parent.id).where(where)


async def access_tenant_by_code(
    session: AsyncSession, scope: TenantContext, code: str, *, ancestors: bool = False
) -> TenantRow:
    """The tenant ``code`` if it lies in ``scope``'s subtree (or, with ``ancestors``, is one of the
    scope's ancestors, whose standards the scope inherits); otherwise the same NotFound as missing."""
    query = _in_scope(scope, ancestors=ancestors).where(Tenant.code == code)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(f"no tenant {code}")
    tenant, parent_code = row
    return TenantRow(tenant, parent_code)


async def access_tenant_or_own(session: AsyncSession, scope: TenantContext, code: str | None) -> Tenant:
    """``code`` in the scope's subtree, or (no code) the scope's own tenant; otherwise NotFound."""
    if code is not None:
        return (await access_tenant_by_code(session, scope, code)).tenant
    found = await session.scalar(select(Tenant).where(Tenant.path == scope.path))
    if found is None:
        raise NotFound("your tenant is not registered")
    return found


async def list_tenants(
    session: AsyncSession,
    scope: TenantContext,
    *,
    level: TenantLevel | None = None,
    status: TenantStatus | None = None,
    parent_code: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> TenantPage:
    """The scope's subtree (itself included), in tree order, filtered and paginated."""
    query = _in_scope(scope)
    if level is not None:
        query = query.where(Tenant.level == level)
    if status is not None:
        query = query.where(Tenant.status == status)
    if parent_code is not None:
        parent = await access_tenant_by_code(session, scope, parent_code)
        query = query.where(Tenant.parent_id == parent.tenant.id)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (
        await session.execute(query.order_by(Tenant.path).limit(page_size).offset((page - 1) * page_size))
    ).all()
    return TenantPage([TenantRow(t, parent) for t, parent in rows], int(total or 0), page, page_size)

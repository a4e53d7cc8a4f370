"""Who is acting on cases, and fetching cases only within their reach.

Fetch a case by id only through :func:`access_case_by_id`: it scopes explicitly (the actor's
subtree, the command centre holding it, the assigned unit), on top of row-level security, and
raises the same NotFound for "not yours" and "missing".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.models import Case
from citylead.identity.principal import Principal, Role
from tenants.context import TenantContext
from tenants.errors import NotFound
from tenants.models import Tenant

__all__ = ["Actor", "access_case_by_id", "actor_of", "in_reach"]

OPERATIONS = (Role.INTAKE, Role.SHIFT_LEAD, Role.DISPATCHER, Role.SUPERVISOR)


@dataclass(frozen=True)
class Actor:
    """A person (or system) acting on cases: their roles, home tenant, and the units they act for."""

    username: str
    roles: frozenset[Role]
    tenant: Tenant
    units: frozenset[tuple[uuid.UUID, str]] = frozenset()

    @property
    def context(self) -> TenantContext:
        return TenantContext(self.tenant.path)

    @property
    def department_only(self) -> bool:
        """A department user sees only what is assigned to its units (and nothing else)."""
        return Role.DEPARTMENT in self.roles and not self.roles.intersection(OPERATIONS)

    def acts_for(self, tenant_id: uuid.UUID | None, unit_code: str | None) -> bool:
        return tenant_id is not None and (tenant_id, unit_code or "") in self.units


async def actor_of(session: AsyncSession, principal: Principal) -> Actor:
    """The principal as an actor: its home tenant row, and its units if it is a department user."""
    tenant = await session.scalar(select(Tenant).where(Tenant.path == principal.tenant_path))
    if tenant is None:
        raise NotFound("your tenant is not registered")
    units: frozenset[tuple[uuid.UUID, str]] = frozenset()
    if Role.DEPARTMENT in principal.roles:
        from citylead.units.service import units_of_account

        units = frozenset((u.tenant_id, u.code) for u in await units_of_account(session, principal.username))
    return Actor(principal.username, principal.roles, tenant, units)


def in_reach(actor: Actor) -> ColumnElement[bool]:
    """Cases the actor may see: its subtree's, those its command centre holds, those assigned to
    its tenant's units — a department user only those assigned to its own units."""
    if actor.department_only:
        if not actor.units:
            return false()
        return tuple_(Case.unit_tenant_id, Case.unit_code).in_(list(actor.units))
    subtree = select(Tenant.id).where(Tenant.path.op("^@")(actor.tenant.path)).scalar_subquery()
    return or_(
        Case.tenant_id.in_(subtree) if actor.tenant.depth < 3 else Case.tenant_id == actor.tenant.id,
        Case.command_tenant_id == actor.tenant.id,
        Case.unit_tenant_id == actor.tenant.id,
    )


async def access_case_by_id(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, *, lock: bool = False
) -> Case:
    query = select(Case).where(Case.id == case_id, in_reach(actor))
    if lock:
        query = query.with_for_update()
    case = await session.scalar(query)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case

"""Who reads assessment results (谁能看考核结果).

- Administrators (province, city, county) and the province supervisor (省级督查) read every
  subject of their subtree: assessing the centre, its departments and its staff is their job.
- A department user (专业部门) reads its own units' ``department`` rows only: how its work is
  judged, nobody else's.
- The operational posts (监督员, 受理员, 值班长, 派遣员) read nothing here: the scores of named
  staff are for their managers. Anyone else gets 403.

Which tenants are visible is decided as everywhere else: the caller's subtree, row-level security
underneath, and the same 404 for another tenant as for a missing one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.identity.policy import ADMIN_ROLES
from citylead.identity.principal import Principal, Role
from citylead.units.service import units_of_account
from tenants.errors import Forbidden
from tenants.models import Tenant

__all__ = ["READERS", "readable_units", "require_reader"]

READERS = (*ADMIN_ROLES, Role.PROVINCE_SUPERVISOR)


def require_reader(principal: Principal) -> None:
    """403 unless the caller may read some assessment result."""
    if not principal.has_any(*READERS, Role.DEPARTMENT):
        raise Forbidden("assessment results need an administrator, province_supervisor or department role")


async def readable_units(session: AsyncSession, principal: Principal) -> frozenset[str] | None:
    """None: the caller reads every subject of its subtree. Otherwise the ``TENANT:UNIT`` codes of
    the departments it may read (a department user's own units; empty when it has none)."""
    require_reader(principal)
    if principal.has_any(*READERS):
        return None
    units = await units_of_account(session, principal.username)
    ids = {u.tenant_id for u in units}
    codes = {t.id: t.code for t in await session.scalars(select(Tenant).where(Tenant.id.in_(ids)))}
    return frozenset(f"{codes[u.tenant_id]}:{u.code}" for u in units if u.tenant_id in codes)

"""Who may do what, beyond seeing: small named checks used by services and controllers."""

from __future__ import annotations

from citylead.identity.principal import Principal, Role
from tenants.errors import Forbidden
from tenants.models import Tenant

__all__ = ["ADMIN_ROLES", "require_admin_over", "require_owner_admin"]

ADMIN_ROLES = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.COUNTY_ADMIN)


def require_admin_over(principal: Principal, tenant: Tenant) -> None:
    """An administrator of ``tenant`` or of one of its ancestors (the caller has already checked
    that ``tenant`` lies in the principal's subtree)."""
    if not tenant.path.startswith(principal.tenant_path):
        raise Forbidden("the tenant is outside your administration")
    if not principal.has_any(*ADMIN_ROLES):
        raise Forbidden("this needs an administrator role (province_admin, city_admin or county_admin)")


def require_owner_admin(principal: Principal, tenant: Tenant) -> None:
    """An administrator of ``tenant`` itself: a tenant's standards layer is written by its own admins
    only (an ancestor publishes in its own layer and sets policies instead)."""
    if principal.tenant_path != tenant.path:
        raise Forbidden(f"only {tenant.name} ({tenant.code}) administrators may change its standards")
    if not principal.has_any(*ADMIN_ROLES):
        raise Forbidden("this needs an administrator role (province_admin, city_admin or county_admin)")

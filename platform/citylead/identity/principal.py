"""The authenticated caller, built from a validated access token."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tenants.context import TenantContext, code_of_path, path_of_group
from tenants.errors import InvalidInput

__all__ = ["Principal", "Role"]


class Role(enum.StrEnum):
    """Realm roles (design.md, domain.md §5)."""

    PROVINCE_ADMIN = "province_admin"  # 省级管理员
    PROVINCE_SUPERVISOR = "province_supervisor"  # 省级督查
    CITY_ADMIN = "city_admin"  # 市级管理员
    COUNTY_ADMIN = "county_admin"  # 县级管理员
    INTAKE = "intake"  # 受理员
    SHIFT_LEAD = "shift_lead"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    DEPARTMENT = "department"  # 专业部门
    SUPERVISOR = "supervisor"  # 监督员

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.PROVINCE_ADMIN: "省级管理员",
    Role.PROVINCE_SUPERVISOR: "省级督查员",
    Role.CITY_ADMIN: "市级管理员",
    Role.COUNTY_ADMIN: "县级管理员",
    Role.INTAKE: "受理员",
    Role.SHIFT_LEAD: "值班长",
    Role.DISPATCHER: "派遣员",
    Role.DEPARTMENT: "专业部门",
    Role.SUPERVISOR: "监督员",
}


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    username: str
    roles: frozenset[Role]
    tenant_path: str  # the home tenant: the group path mirrored from the tenant tree, plus "/"
    name: str | None = None
    email: str | None = None

    @classmethod
    def from_claims(cls, claims: dict[str, object]) -> Principal | None:
        """Build a principal from Keycloak-shaped claims; None if no tenant group is present."""
        raw_groups = claims.get("groups")
        groups = [g for g in raw_groups if isinstance(g, str)] if isinstance(raw_groups, list) else []
        tenant_groups = [path_of_group(g) for g in groups if _is_tenant_group(g)]
        if len(tenant_groups) != 1:
            return None
        realm = claims.get("realm_access") or {}
        raw_roles = realm.get("roles", []) if isinstance(realm, dict) else []
        roles = frozenset(Role(r) for r in raw_roles if r in Role._value2member_map_)
        return cls(
            subject=str(claims.get("sub", "")),
            username=str(claims.get("preferred_username") or claims.get("sub") or ""),
            roles=roles,
            tenant_path=tenant_groups[0],
            name=str(claims["name"]) if claims.get("name") else None,
            email=str(claims["email"]) if claims.get("email") else None,
        )

    @property
    def tenant_code(self) -> str:
        return code_of_path(self.tenant_path)

    @property
    def context(self) -> TenantContext:
        """The principal's own tenant context."""
        return TenantContext(self.tenant_path)

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def _is_tenant_group(group: str) -> bool:
    try:
        TenantContext(path_of_group(group))
    except InvalidInput:
        return False
    return True

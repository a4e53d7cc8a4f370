"""Response and request shapes of the public API (msgspec structs; field names are the JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from citylead.identity.principal import Principal
from tenants.models import TenantLevel, TenantStatus
from tenants.profiles import CommandMode, SupervisionMode, TenantProfile
from tenants.service import TenantPage, TenantRow

__all__ = ["MeOut", "ProfileIn", "ProfileOut", "TenantDetailOut", "TenantListOut", "TenantOut"]


class TenantOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    level: TenantLevel
    level_label: str
    status: TenantStatus
    status_label: str
    parent_code: str | None
    path: str
    area_km2: float | None
    live_since: datetime | None

    @classmethod
    def of(cls, row: TenantRow) -> TenantOut:
        t = row.tenant
        return cls(
            code=t.code,
            name=t.name,
            level=t.level,
            level_label=t.level.label,
            status=t.status,
            status_label=t.status.label,
            parent_code=row.parent_code,
            path=t.path,
            area_km2=float(t.area_km2) if t.area_km2 is not None else None,
            live_since=t.live_since,
        )


class TenantDetailOut(TenantOut, kw_only=True):
    boundary: dict[str, Any] | None
    version: int

    @classmethod
    def of_detail(cls, row: TenantRow) -> TenantDetailOut:
        base = msgspec.structs.asdict(TenantOut.of(row))
        return cls(**base, boundary=row.tenant.boundary, version=row.tenant.version)


class TenantListOut(msgspec.Struct, kw_only=True):
    items: list[TenantOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: TenantPage) -> TenantListOut:
        return cls(
            items=[TenantOut.of(r) for r in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
        )


class RoleOut(msgspec.Struct):
    code: str
    label: str


class MeOut(msgspec.Struct, kw_only=True):
    username: str
    name: str | None
    email: str | None
    roles: list[RoleOut]
    tenant: TenantOut

    @classmethod
    def of(cls, principal: Principal, tenant: TenantRow) -> MeOut:
        return cls(
            username=principal.username,
            name=principal.name,
            email=principal.email,
            roles=[RoleOut(r.value, r.label) for r in sorted(principal.roles)],
            tenant=TenantOut.of(tenant),
        )


Phone = Annotated[
    str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 \-]{4,30}$", description="digits, spaces, '-', optional '+'")
]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ProfileIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A full replacement of the profile; ``version`` is the one you read (0 if none yet)."""

    version: Annotated[int, msgspec.Meta(ge=0)]
    contact_name: Name | None = None
    contact_phone: Phone | None = None
    contact_email: Email | None = None
    supervision_mode: SupervisionMode | None = None
    command_mode: CommandMode | None = None


class ProfileOut(msgspec.Struct, kw_only=True):
    tenant_code: str
    version: int
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    supervision_mode: SupervisionMode | None = None
    command_mode: CommandMode | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, code: str, p: TenantProfile | None) -> ProfileOut:
        if p is None:
            return cls(tenant_code=code, version=0)
        return cls(
            tenant_code=code,
            version=p.version,
            contact_name=p.contact_name,
            contact_phone=p.contact_phone,
            contact_email=p.contact_email,
            supervision_mode=p.supervision_mode,
            command_mode=p.command_mode,
            updated_at=p.updated_at,
            updated_by=p.updated_by,
        )

"""Request and response shapes of ``/api/v1/tenants/{code}/units`` and ``…/components``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from citylead.units.inventory import ComponentPage, ImportReport
from citylead.units.models import Component, ComponentState, Unit, UnitKind
from citylead.units.service import UNIT_FIELDS, UnitPage

__all__ = [
    "ComponentListOut",
    "ComponentOut",
    "ImportOut",
    "UnitIn",
    "UnitListOut",
    "UnitOut",
    "UnitPatchIn",
]


class UnitIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: str
    name: str
    kind: str  # sector | territorial | shopfront
    sector: str | None = None
    street_code: str | None = None
    classes: list[str] = msgspec.field(default_factory=list)
    accounts: list[str] = msgspec.field(default_factory=list)
    credit_code: str | None = None
    contact: str | None = None

    def values(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


class UnitPatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; ``version`` is the one you read (409 if someone changed it)."""

    version: int
    name: str | msgspec.UnsetType = msgspec.UNSET
    kind: str | msgspec.UnsetType = msgspec.UNSET
    sector: str | msgspec.UnsetType | None = msgspec.UNSET
    street_code: str | msgspec.UnsetType | None = msgspec.UNSET
    classes: list[str] | msgspec.UnsetType = msgspec.UNSET
    accounts: list[str] | msgspec.UnsetType = msgspec.UNSET
    credit_code: str | msgspec.UnsetType | None = msgspec.UNSET
    contact: str | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        return {k: v for k in UNIT_FIELDS if (v := getattr(self, k)) is not msgspec.UNSET}


class UnitOut(msgspec.Struct, kw_only=True):
    tenant: str
    code: str
    name: str
    kind: str
    kind_label: str
    sector: str | None
    street_code: str | None
    classes: list[str]
    accounts: list[str]
    credit_code: str | None
    contact: str | None
    active: bool
    version: int

    @classmethod
    def of(cls, unit: Unit, codes: dict[uuid.UUID, str]) -> UnitOut:
        return cls(
            tenant=codes[unit.tenant_id],
            code=unit.code,
            name=unit.name,
            kind=unit.kind,
            kind_label=UnitKind(unit.kind).label,
            sector=unit.sector,
            street_code=unit.street_code,
            classes=list(unit.classes),
            accounts=list(unit.accounts),
            credit_code=unit.credit_code,
            contact=unit.contact,
            active=unit.active,
            version=unit.version,
        )


class UnitListOut(msgspec.Struct, kw_only=True):
    items: list[UnitOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: UnitPage, codes: dict[uuid.UUID, str]) -> UnitListOut:
        items = [UnitOut.of(u, codes) for u in page.items]
        return cls(items=items, total=page.total, page=page.page, page_size=page.page_size)


class ComponentOut(msgspec.Struct, kw_only=True):
    tenant: str
    object_id: str
    edition: str
    class_code: str
    name: str
    state: str
    state_label: str
    lon: float
    lat: float
    owner_unit: str | None
    owner_tenant: str | None
    maintainer_unit: str | None
    maintainer_tenant: str | None
    competent_department: str | None
    grid_code: str | None
    street_code: str | None
    community_code: str | None
    installed_on: date | None
    changed_on: date | None
    source: str | None
    note: str | None
    updated_at: datetime

    @classmethod
    def of(cls, c: Component, codes: dict[uuid.UUID, str]) -> ComponentOut:
        return cls(
            tenant=codes[c.tenant_id],
            object_id=c.object_id,
            edition=c.edition,
            class_code=c.class_code,
            name=c.name,
            state=c.state,
            state_label=ComponentState(c.state).label,
            lon=c.lon,
            lat=c.lat,
            owner_unit=c.owner_unit,
            owner_tenant=codes.get(c.owner_tenant_id) if c.owner_tenant_id else None,
            maintainer_unit=c.maintainer_unit,
            maintainer_tenant=codes.get(c.maintainer_tenant_id) if c.maintainer_tenant_id else None,
            competent_department=c.competent_department,
            grid_code=c.grid_code,
            street_code=c.street_code,
            community_code=c.community_code,
            installed_on=c.installed_on,
            changed_on=c.changed_on,
            source=c.source,
            note=c.note,
            updated_at=c.updated_at,
        )


class ComponentListOut(msgspec.Struct, kw_only=True):
    items: list[ComponentOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: ComponentPage, codes: dict[uuid.UUID, str]) -> ComponentListOut:
        items = [ComponentOut.of(c, codes) for c in page.items]
        return cls(items=items, total=page.total, page=page.page, page_size=page.page_size)


class ImportOut(msgspec.Struct, kw_only=True):
    tenant: str
    format: str
    received: int
    inserted: int
    updated: int

    @classmethod
    def of(cls, code: str, r: ImportReport) -> ImportOut:
        return cls(tenant=code, format=r.format, received=r.received, inserted=r.inserted, updated=r.updated)

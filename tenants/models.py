"""The tenant tree (租户树): province → city → county-level division, keyed by GB/T 2260 code."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, deferred, mapped_column

from tenants.orm import Base

__all__ = ["Tenant", "TenantLevel", "TenantStatus"]


class TenantLevel(enum.StrEnum):
    """Administrative level (行政级别)."""

    PROVINCE = "province"  # 省级（含直辖市）
    PREFECTURE_CITY = "prefecture_city"  # 地级市
    MUNICIPAL_DISTRICT = "municipal_district"  # 市辖区
    COUNTY_CITY = "county_city"  # 县级市
    COUNTY = "county"  # 县（含自治县、旗、林区、特区）

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    @property
    def is_division(self) -> bool:
        """County-level division (县级行政区): what coverage is counted in."""
        return self in (TenantLevel.MUNICIPAL_DISTRICT, TenantLevel.COUNTY_CITY, TenantLevel.COUNTY)


_LEVEL_LABELS = {
    TenantLevel.PROVINCE: "省",
    TenantLevel.PREFECTURE_CITY: "地级市",
    TenantLevel.MUNICIPAL_DISTRICT: "市辖区",
    TenantLevel.COUNTY_CITY: "县级市",
    TenantLevel.COUNTY: "县",
}


class TenantStatus(enum.StrEnum):
    """Platform status: registered (在册) → onboarding (接入中) → live (已上线) → suspended (已停用)."""

    REGISTERED = "registered"
    ONBOARDING = "onboarding"
    LIVE = "live"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return {"registered": "在册", "onboarding": "接入中", "live": "已上线", "suspended": "已停用"}[self]


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(e, name=name, values_callable=lambda x: [m.value for m in x], native_enum=False, length=24)


class Tenant(Base):
    """A province, city or county-level division. Its path is the tree: ``/32/3204/320411/``.

    Not tenant-owned in the ``tenant_id`` sense (it *is* the tenant), but protected by row-level
    security all the same: a principal sees its subtree and its ancestors, and writes only itself.
    """

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    code: Mapped[str] = mapped_column(String(6), unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    path: Mapped[str] = mapped_column(Text(collation="C"), unique=True)
    level: Mapped[TenantLevel] = mapped_column(_enum(TenantLevel, "tenant_level"))
    name: Mapped[str] = mapped_column(String(64))
    area_km2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    boundary: Mapped[dict[str, Any] | None] = deferred(mapped_column(JSONB))
    status: Mapped[TenantStatus] = mapped_column(
        _enum(TenantStatus, "tenant_status"), server_default=TenantStatus.REGISTERED.value
    )
    live_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{6}$'", name="code_gb2260"),
        CheckConstraint("path ~ '^/[0-9]{2}/([0-9]{4}/)?([0-9]{6}/)?$'", name="path_shape"),
        Index("ix_tenants_path_prefix", "path", postgresql_using="spgist"),
        Index("ix_tenants_parent_id", "parent_id"),
    )

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

"""Responsible units (责任单位) and the component inventory (部件普查数据), both tenant-owned.

Units are read along the lineage: a county sees its city's departments, because city-level
departments (a city's drainage authority, its street-light office) take county cases. Components are
read in the subtree only. Owner and maintainer units are recorded by (tenant id, code) without a
foreign key, since the unit may live in an ancestor tenant.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["Component", "ComponentState", "Edition", "Unit", "UnitKind"]


class UnitKind(enum.StrEnum):
    SECTOR = "sector"  # 专业部门
    TERRITORIAL = "territorial"  # 属地街镇
    SHOPFRONT = "shopfront"  # 门前三包责任单位

    @property
    def label(self) -> str:
        return {"sector": "专业部门", "territorial": "属地街镇", "shopfront": "门前三包"}[self.value]


class ComponentState(enum.StrEnum):
    INTACT = "intact"  # 完好
    DAMAGED = "damaged"  # 破损
    LOST = "lost"  # 丢失
    ABANDONED = "abandoned"  # 废弃
    REMOVED = "removed"  # 移除

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @classmethod
    def parse(cls, value: str) -> ComponentState:
        """``intact`` or its Chinese label ``完好``; raises ValueError."""
        by_label = {v: k for k, v in _STATE_LABELS.items()}
        return by_label.get(value) or cls(value)


_STATE_LABELS = {
    ComponentState.INTACT: "完好",
    ComponentState.DAMAGED: "破损",
    ComponentState.LOST: "丢失",
    ComponentState.ABANDONED: "废弃",
    ComponentState.REMOVED: "移除",
}


class Edition(enum.StrEnum):
    """Which standard the object id follows: 16 digits (GB/T 30428.2) or 17 (GB/T 47678.5-2026)."""

    LEGACY = "legacy"
    CURRENT = "2026"


class Unit(Base):
    """A unit cases are dispatched to: a department, a street/town, or a shop-front holder."""

    __tablename__ = "units"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # a UnitKind value
    sector: Mapped[str | None] = mapped_column(String(32))  # matches the manual's sector:<type>
    street_code: Mapped[str | None] = mapped_column(String(9))
    classes: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    accounts: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    contact: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __table_args__ = (
        CheckConstraint("kind IN ('sector', 'territorial', 'shopfront')", name="kind"),
        Index("ix_units_accounts", "accounts", postgresql_using="gin"),
        # 唯一责任主体: one active territorial unit per street/town.
        Index(
            "uq_units_territory",
            "tenant_id",
            "street_code",
            unique=True,
            postgresql_where=text("kind = 'territorial' AND active"),
        ),
    )

    @property
    def unit_kind(self) -> UnitKind:
        return UnitKind(self.kind)


class Component(Base):
    """One physical object of the inventory (GB/T 47678.5 table 2, abbreviated)."""

    __tablename__ = "components"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    object_id: Mapped[str] = mapped_column(String(17), primary_key=True)
    edition: Mapped[str] = mapped_column(String(8))  # an Edition value
    class_code: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(64))
    owner_unit: Mapped[str | None] = mapped_column(String(32))  # 权属单位
    owner_tenant_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    maintainer_unit: Mapped[str | None] = mapped_column(String(32))  # 养护单位
    maintainer_tenant_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    competent_department: Mapped[str | None] = mapped_column(String(64))  # 主管部门
    grid_code: Mapped[str | None] = mapped_column(String(15))
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(16), server_default=text("'intact'"))  # ComponentState
    lon: Mapped[float] = mapped_column(Double)
    lat: Mapped[float] = mapped_column(Double)
    installed_on: Mapped[date | None] = mapped_column(Date)
    changed_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(64))  # 数据来源
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("edition IN ('legacy', '2026')", name="edition"),
        CheckConstraint("state IN ('intact', 'damaged', 'lost', 'abandoned', 'removed')", name="state"),
        Index("ix_components_class_position", "tenant_id", "class_code", "lon", "lat"),
        Index("ix_components_street", "tenant_id", "street_code"),
    )

    @property
    def component_state(self) -> ComponentState:
        return ComponentState(self.state)

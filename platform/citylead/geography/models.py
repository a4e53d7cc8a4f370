"""Tables of a county's geography: streets/towns (街道/镇/乡), communities (社区/村), unit grids
(单元网格), and one row per county with the version of its geography.

All four are tenant-owned by the county-level division. Every foreign key between them carries
``tenant_id``. Streets and communities have no geometry of their own: they are the union of their
grids.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["Community", "Geography", "Grid", "Street", "StreetKind"]


class StreetKind(enum.StrEnum):
    """Township-level division kind, from the 3 digits after the county code (GB/T 10114)."""

    STREET = "street"  # 街道 001–099
    TOWN = "town"  # 镇 100–199
    TOWNSHIP = "township"  # 乡 200–399

    @property
    def label(self) -> str:
        return {"street": "街道", "town": "镇", "township": "乡"}[self]


class Geography(Base):
    """The county's geography as a whole (辖区地理): its version, bumped by every import, is how
    other processes notice that their cached spatial index is stale."""

    __tablename__ = "geographies"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    imported_by: Mapped[str] = mapped_column(String(255))
    streets: Mapped[int] = mapped_column(Integer)
    communities: Mapped[int] = mapped_column(Integer)
    grids: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)


class Street(Base):
    """A street or town (街道/镇/乡): code = county code + 3 digits."""

    __tablename__ = "streets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{9}$'", name="code_digits"),
        CheckConstraint("kind IN ('street', 'town', 'township')", name="kind"),
    )


class Community(Base):
    """A community or village (社区/村): code = street code + 3 digits."""

    __tablename__ = "communities"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    street_code: Mapped[str] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "street_code"], ["streets.tenant_id", "streets.code"], ondelete="RESTRICT"
        ),
        CheckConstraint("code ~ '^[0-9]{12}$'", name="code_digits"),
        Index("ix_communities_tenant_id_street_code", "tenant_id", "street_code"),
    )


class Grid(Base):
    """A unit grid (单元网格): a closed polygon in WGS84 lon/lat, with its area in m² (equal-area
    projection) and its centroid. Code: 14 digits (CJ/T 213), 15 digits (GB/T 30428.1) or 15
    characters with a letter (GB/T 47678)."""

    __tablename__ = "grids"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    street_code: Mapped[str] = mapped_column(String(9))
    community_code: Mapped[str] = mapped_column(String(12))
    area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 1))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONB)
    centroid_lon: Mapped[float] = mapped_column(Double)
    centroid_lat: Mapped[float] = mapped_column(Double)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "street_code"], ["streets.tenant_id", "streets.code"], ondelete="RESTRICT"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "community_code"],
            ["communities.tenant_id", "communities.code"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("code ~ '^[0-9A-Z]{14,15}$'", name="code_chars"),
        Index("ix_grids_tenant_id_street_code", "tenant_id", "street_code"),
        Index("ix_grids_tenant_id_community_code", "tenant_id", "community_code"),
    )

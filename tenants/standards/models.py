"""Stored layers: one editable draft (草稿) and the immutable published versions (已发布版本) per kind."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["StandardDraft", "StandardVersion"]

_KINDS = "kind IN ('catalog', 'manual', 'assessment', 'calendar', 'template')"


class StandardDraft(Base):
    """The owning tenant's working copy of its layer. Readable by its subtree's admins only."""

    __tablename__ = "standard_drafts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    based_on: Mapped[int] = mapped_column(Integer, server_default=text("0"))  # the version it started from
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))  # optimistic lock of edits
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(255))

    __table_args__ = (CheckConstraint(_KINDS, name="kind"),)


class StandardVersion(Base):
    """A published layer. Append-only: readable by the tenant's lineage and subtree, never changed."""

    __tablename__ = "standard_versions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_by: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_KINDS, name="kind"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

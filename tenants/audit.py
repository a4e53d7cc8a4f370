"""Audit events (审计事件): one append-only row per state change, written in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["AuditEvent", "record"]


class AuditEvent(Base):
    """Tenant-owned and append-only: the application role may insert and read, never change."""

    __tablename__ = "audit_events"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")

    __table_args__ = (Index("ix_audit_events_tenant_at", "tenant_id", "at"),)


async def record(
    session: AsyncSession, tenant_id: uuid.UUID, *, actor: str, action: str, subject: str, **data: Any
) -> None:
    """Add an audit event to the session's current transaction."""
    session.add(AuditEvent(tenant_id=tenant_id, actor=actor, action=action, subject=subject, data=data))

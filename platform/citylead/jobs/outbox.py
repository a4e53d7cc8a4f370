"""The transactional outbox (发件箱): side effects written in the same transaction as the change.

An action adds an :class:`OutboxMessage` with :func:`enqueue`; the relay
(:mod:`citylead.jobs.relay`) sends committed rows to dramatiq and marks them sent. So a message is
sent if and only if its transaction committed (at least once: actors are idempotent).
A row that could not be sent keeps its error in ``last_error`` and is not claimed again before
``retry_at`` (backoff 0 s, 1 s, 3 s, 7 s … at most an hour; migration 0008).

Rows are tenant-owned like everything else; the relay reads across tenants only through the
``citylead_outbox_claim`` / ``citylead_outbox_sent`` functions (SECURITY DEFINER), never by
widening the application role's view.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants.models import Tenant
from tenants.orm import Base

__all__ = ["OutboxMessage", "enqueue"]


class OutboxMessage(Base):
    __tablename__ = "outbox"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(64))  # the dramatiq actor's name
    queue: Mapped[str] = mapped_column(String(64), server_default=text("'default'"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)  # keyword arguments: ids, never objects
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # after a failed send

    __table_args__ = (Index("ix_outbox_pending", "created_at", postgresql_where=text("sent_at IS NULL")),)


def enqueue(
    session: AsyncSession, tenant: Tenant, actor: str, *, queue: str = "default", **payload: Any
) -> OutboxMessage:
    """Add a message for ``actor`` to the current transaction. The payload is JSON: ids and plain
    values. The tenant's id and path are always part of it, so the worker enters the same context
    (``TenantContext(payload["tenant_path"])``)."""
    message = OutboxMessage(
        tenant_id=tenant.id,
        actor=actor,
        queue=queue,
        payload={"tenant_id": str(tenant.id), "tenant_path": tenant.path, **payload},
    )
    session.add(message)
    return message

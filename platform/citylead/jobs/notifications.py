"""Notifications (通知): messages to a unit, a role or a user of one tenant, written by a job.

An action calls :func:`notify` in its transaction; the outbox relay sends the message after commit
and the ``notifications.send`` job inserts the row in the tenant's own context. ``dedupe_key``
makes the job idempotent: a redelivered message (at least once) finds the row and adds nothing.
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from citylead.jobs.outbox import OutboxMessage, enqueue
from citylead.jobs.registry import JobContext, job
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant
from tenants.orm import Base

__all__ = ["Notification", "RecipientKind", "add_notification", "notify", "send"]

SEND = "notifications.send"
log = logging.getLogger(__name__)


class RecipientKind(enum.StrEnum):
    UNIT = "unit"  # 处置单位 / 部门, by unit code
    ROLE = "role"  # 岗位, e.g. dispatcher: everyone in that role of the tenant
    USER = "user"  # 个人, by login


class Notification(Base):
    """Tenant-owned; the tenant's users may read them and mark them read (``read_at``)."""

    __tablename__ = "notifications"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recipient_kind: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(64))  # unit code, role name or login
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    case_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("recipient_kind IN ('unit', 'role', 'user')", name="recipient_kind"),
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_notifications_recipient", "tenant_id", "recipient_kind", "recipient", "created_at"),
    )


_PATH = text("SELECT citylead_tenant_path(:id)")


async def _path_of(ctx: JobContext, tenant_id: str) -> str | None:
    """The path of a tenant the sender named (looked up, never taken from the message)."""
    async with ctx.db.transaction(None) as session:
        path = await session.scalar(_PATH, {"id": uuid.UUID(tenant_id)})
    return str(path) if path else None


async def _works_on(
    session: AsyncSession, county_id: uuid.UUID, case_id: str | None, sender: uuid.UUID
) -> bool:
    """The sender holds the county's case or is assigned to it (read in the county's context)."""
    from citylead.cases.models import Case

    if case_id is None:
        return False
    found = await session.scalar(
        select(Case.id).where(
            Case.tenant_id == county_id,
            Case.id == uuid.UUID(case_id),
            or_(Case.command_tenant_id == sender, Case.unit_tenant_id == sender),
        )
    )
    return found is not None


def _in_line(a: str, b: str) -> bool:
    """One tenant path is an ancestor of (or the same as) the other."""
    return a.startswith(b) or b.startswith(a)


def _check(recipient_kind: str, recipient: str, subject: str, body: str, dedupe_key: str) -> None:
    problems = []
    if recipient_kind not in set(RecipientKind):
        problems.append(FieldProblem("recipient_kind", "one of unit, role, user", recipient_kind))
    for name, value, most in (
        ("recipient", recipient, 64),
        ("subject", subject, 255),
        ("dedupe_key", dedupe_key, 255),
    ):
        if not isinstance(value, str) or not value.strip() or len(value) > most:
            problems.append(FieldProblem(name, f"1 to {most} characters", value))
    if not isinstance(body, str) or not body.strip():
        problems.append(FieldProblem("body", "not empty", body))
    if problems:
        raise InvalidInput("invalid notification", errors=problems)


def notify(
    session: AsyncSession,
    tenant: Tenant,
    *,
    recipient_kind: RecipientKind | str,
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str,
    case_id: uuid.UUID | None = None,
    deliver_to_id: uuid.UUID | None = None,
) -> OutboxMessage:
    """Queue a notification in the current transaction (sent only if it commits).

    ``dedupe_key`` names the occasion, e.g. ``f"case:{case.id}:dispatched:{event.id}"``: one row
    per key and tenant, however often the message is delivered. The row is written in ``tenant``,
    or in tenant ``deliver_to_id``, where the recipients read. The job delivers there only if that
    tenant is in the sender's line of the tree (a county notifying its city's department, a city a
    county's unit) or — about a case — is the case's county while the sender holds the case or is
    assigned to it; otherwise the notice is dropped with a warning.
    """
    kind = str(recipient_kind)
    _check(kind, recipient, subject, body, dedupe_key)
    elsewhere = deliver_to_id if deliver_to_id is not None and deliver_to_id != tenant.id else None
    return enqueue(
        session,
        tenant,
        SEND,
        recipient_kind=kind,
        recipient=recipient,
        subject=subject,
        body=body,
        case_id=str(case_id) if case_id else None,
        dedupe_key=dedupe_key,
        **({"deliver_to": str(elsewhere)} if elsewhere else {}),
    )


async def add_notification(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    recipient_kind: str,
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str,
    case_id: uuid.UUID | None = None,
) -> bool:
    """Insert the notification unless its ``dedupe_key`` is already there; whether it was added."""
    _check(recipient_kind, recipient, subject, body, dedupe_key)
    stmt = (
        insert(Notification)
        .values(
            tenant_id=tenant_id,
            recipient_kind=recipient_kind,
            recipient=recipient,
            subject=subject,
            body=body,
            case_id=case_id,
            dedupe_key=dedupe_key,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
        .returning(Notification.id)
    )
    return (await session.scalar(stmt)) is not None


@job(SEND, max_retries=10, time_limit_ms=30_000)
async def send(
    ctx: JobContext,
    *,
    tenant_id: str,
    tenant_path: str,
    recipient_kind: str,
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str,
    case_id: str | None = None,
    deliver_to: str | None = None,
) -> None:
    """``notifications.send``: one row per (tenant, dedupe_key), in the tenant's own context, or in
    the tenant ``deliver_to`` if the sender may notify there (see :func:`notify`)."""
    if deliver_to is not None:
        target_path = await _path_of(ctx, deliver_to)
        if target_path is None:
            log.warning("notification %s: no tenant %s, dropped", dedupe_key, deliver_to)
            return
        sender, sideways = uuid.UUID(tenant_id), not _in_line(target_path, tenant_path)
        tenant_id, tenant_path = deliver_to, target_path
        if sideways:
            async with ctx.transaction(tenant_path) as session:
                allowed = await _works_on(session, uuid.UUID(tenant_id), case_id, sender)
            if not allowed:
                log.warning(
                    "notification %s: the sender has no part in case %s, dropped", dedupe_key, case_id
                )
                return
    async with ctx.transaction(tenant_path) as session:
        await add_notification(
            session,
            uuid.UUID(tenant_id),
            recipient_kind=recipient_kind,
            recipient=recipient,
            subject=subject,
            body=body,
            dedupe_key=dedupe_key,
            case_id=uuid.UUID(case_id) if case_id else None,
        )

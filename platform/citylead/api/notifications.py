"""``/api/v1/notifications``: what the caller has been told (待办提醒) — by role in its tenant, by
login, or through the units it acts for — and marking it read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.access import Actor, actor_of
from citylead.db import Database
from citylead.identity.principal import Principal
from citylead.jobs.notifications import Notification
from tenants.errors import NotFound
from tenants.models import Tenant

__all__ = ["NotificationController"]

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]


class NotificationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    created_at: datetime
    recipient_kind: str
    recipient: str
    subject: str
    body: str
    case_id: uuid.UUID | None
    read_at: datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            created_at=n.created_at,
            recipient_kind=n.recipient_kind,
            recipient=n.recipient,
            subject=n.subject,
            body=n.body,
            case_id=n.case_id,
            read_at=n.read_at,
        )


class NotificationListOut(msgspec.Struct, kw_only=True):
    items: list[NotificationOut]
    total: int
    unread: int


async def _addressed(session: AsyncSession, actor: Actor) -> ColumnElement[bool]:
    """Notifications of the caller's own tenant addressed to one of its roles, its login, or a
    unit it acts for (``TENANT/UNIT``)."""
    units: list[str] = []
    if actor.units:
        codes = dict(
            (
                await session.execute(
                    select(Tenant.id, Tenant.code).where(Tenant.id.in_({t for t, _ in actor.units}))
                )
            ).all()
        )
        units = [f"{codes.get(t, '?')}/{u}" for t, u in actor.units]
    return and_(
        Notification.tenant_id == actor.tenant.id,
        or_(
            and_(
                Notification.recipient_kind == "role",
                Notification.recipient.in_([r.value for r in actor.roles]),
            ),
            and_(Notification.recipient_kind == "user", Notification.recipient == actor.username),
            and_(Notification.recipient_kind == "unit", Notification.recipient.in_(units)),
        ),
    )


class NotificationController(Controller):
    path = "/notifications"
    tags = ["notifications"]  # noqa: RUF012

    @get("/", summary="Your notifications, newest first")
    async def list(
        self,
        db: Db,
        principal: Caller,
        unread: Annotated[bool, QueryParameter(description="only those not yet read")] = False,
        case: Annotated[uuid.UUID | None, QueryParameter(description="only those about this case")] = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> NotificationListOut:
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            mine = await _addressed(s, actor)
            query = select(Notification).where(mine)
            if unread:
                query = query.where(Notification.read_at.is_(None))
            if case is not None:
                query = query.where(Notification.case_id == case)
            total = await s.scalar(select(func.count()).select_from(query.subquery()))
            unread_count = await s.scalar(
                select(func.count()).select_from(Notification).where(mine, Notification.read_at.is_(None))
            )
            rows = await s.scalars(
                query.order_by(Notification.created_at.desc()).limit(page_size).offset((page - 1) * page_size)
            )
            return NotificationListOut(
                items=[NotificationOut.of(n) for n in rows],
                total=int(total or 0),
                unread=int(unread_count or 0),
            )

    @post("/{notification_id:uuid}/read", status_code=200, summary="Mark a notification read")
    async def read(
        self,
        db: Db,
        principal: Caller,
        notification_id: Annotated[uuid.UUID, PathParameter(description="the notification's id")],
    ) -> NotificationOut:
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            row = await s.scalar(
                select(Notification).where(Notification.id == notification_id, await _addressed(s, actor))
            )
            if row is None:
                raise NotFound(f"no notification {notification_id}")
            if row.read_at is None:
                row.read_at = await s.scalar(select(func.now()))
            return NotificationOut.of(row)

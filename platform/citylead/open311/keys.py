"""Open311 API keys (接口密钥): one per client application per county, shown once, stored hashed.

A key is ``o311_`` + 32 random bytes (base64url). Only its SHA-256 and its first characters (the
``prefix``, to tell keys apart in lists) are stored. A fast hash is right here, where Argon2 is
right for passwords: a password is guessable, so its hash must make each guess expensive; a key
carries 256 bits of randomness, so there is nothing to guess and a slow hash would only slow down
every POST. Checking a key looks it up by prefix and compares digests in constant time.

Keys belong to one county (the Open311 jurisdiction): the row is tenant-owned, so a key is only
ever found in its own county's context.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, func, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants import audit
from tenants.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.orm import Base

__all__ = [
    "KEY_PREFIX",
    "Open311Client",
    "do_create_client",
    "do_revoke_client",
    "list_clients",
    "verify_api_key",
]

KEY_PREFIX = "o311_"
PREFIX_LENGTH = 12  # "o311_" and 7 random characters: 42 bits, enough to tell a county's keys apart
INVALID_KEY = "invalid or revoked api_key -- can't proceed"


class Open311Client(Base):
    """An application allowed to POST service requests to one county (接入应用)."""

    __tablename__ = "open311_clients"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    name: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the whole key
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("tenant_id", "key_hash"),
        Index("ix_open311_clients_tenant_id_prefix", "tenant_id", "prefix"),
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _new_key() -> str:
    return KEY_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _require_jurisdiction(county: Tenant) -> None:
    if not county.level.is_division:
        raise InvalidInput(
            f"{county.name} ({county.code}) is not a county-level division; Open311 jurisdictions are",
            errors=[FieldProblem("code", "a county-level division (区, 县级市, 县)", county.code)],
        )


async def do_create_client(
    session: AsyncSession, county: Tenant, name: str, *, acting_user: str
) -> tuple[Open311Client, str]:
    """Issue a key for a new client application; returns the row and the key, which is never
    shown again. The transaction must be in ``county``'s own context."""
    _require_jurisdiction(county)
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise InvalidInput("a client needs a name", errors=[FieldProblem("name", "1 to 64 characters", name)])
    key = _new_key()
    client = Open311Client(tenant_id=county.id, name=name, key_hash=_digest(key), prefix=key[:PREFIX_LENGTH])
    session.add(client)
    await session.flush()
    await session.refresh(client)
    await audit.record(
        session,
        county.id,
        actor=acting_user,
        action="open311.client_created",
        subject=f"open311_client:{client.id}",
        name=name,
        prefix=client.prefix,
    )
    return client, key


async def list_clients(session: AsyncSession, county: Tenant) -> list[Open311Client]:
    """The county's clients, newest first, revoked ones included (never their keys)."""
    rows = await session.scalars(
        select(Open311Client)
        .where(Open311Client.tenant_id == county.id)
        .order_by(Open311Client.created_at.desc(), Open311Client.id)
    )
    return list(rows)


async def do_revoke_client(
    session: AsyncSession, county: Tenant, client_id: uuid.UUID, *, acting_user: str
) -> Open311Client:
    """Revoke a client's key at once. Revoking again changes nothing; another county's client is
    the same NotFound as a missing one."""
    client = await session.scalar(
        select(Open311Client)
        .where(Open311Client.tenant_id == county.id, Open311Client.id == client_id)
        .with_for_update()
    )
    if client is None:
        raise NotFound(f"no Open311 client {client_id}")
    if client.revoked_at is None:
        client.revoked_at = func.now()
        await session.flush()
        await session.refresh(client)
        await audit.record(
            session,
            county.id,
            actor=acting_user,
            action="open311.client_revoked",
            subject=f"open311_client:{client.id}",
            name=client.name,
            prefix=client.prefix,
        )
    return client


_DUMMY = _digest("o311_dummy")


async def verify_api_key(session: AsyncSession, county: Tenant, api_key: str | None) -> Open311Client:
    """The active client ``api_key`` belongs to in ``county``, or Forbidden (Open311: 403). A key
    of another county, a revoked key, an unknown key and no key look the same."""
    if not api_key or not api_key.startswith(KEY_PREFIX) or len(api_key) > 128:
        raise Forbidden(INVALID_KEY)
    digest = _digest(api_key)
    candidates = await session.scalars(
        select(Open311Client).where(
            Open311Client.tenant_id == county.id, Open311Client.prefix == api_key[:PREFIX_LENGTH]
        )
    )
    found = None
    for client in candidates:
        if hmac.compare_digest(client.key_hash, digest) and client.revoked_at is None:
            found = client
    if found is None:
        hmac.compare_digest(_DUMMY, digest)  # the same work whether or not a prefix matched
        raise Forbidden(INVALID_KEY)
    return found

"""The PostgreSQL broker's tables (schema ``dramatiq``), as dramatiq-postgres 1.4 expects them.

dramatiq-postgres never creates its tables by itself, and the application role may not create
schemas, so migration 0008 creates them as the owner role and grants the application role what
the broker does (read, write, delete; the queue's identity sequence). They are declared here only
so that the schema tests see the migration match. Not tenant-owned: a message queue, read and
written only by the broker; payloads carry ids, the tenant's rows stay behind row-level security.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Enum,
    Identity,
    Index,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from tenants.orm import Base

__all__ = ["SCHEMA", "STATE", "queue", "result", "worker"]

SCHEMA = "dramatiq"
STATE = Enum("queued", "consumed", "rejected", name="state", schema=SCHEMA)

queue = Table(
    "queue",
    Base.metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("queue_name", Text, nullable=False, server_default=text("'default'")),
    Column("state", STATE),
    Column("mtime", DateTime(timezone=True), server_default=func.now()),
    Column("message", JSONB),
    Column("position", BigInteger, Identity(always=False), nullable=False),
    Column("available_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("worker_id", UUID(as_uuid=True)),
    Column("consumed_at", DateTime(timezone=True)),
    Index(
        "ix_queue_claim",
        "queue_name",
        "available_at",
        "position",
        postgresql_where=text("state = 'queued'"),
    ),
    Index("ix_queue_state_mtime", "state", "mtime"),
    schema=SCHEMA,
)

worker = Table(
    "worker",
    Base.metadata,
    Column("worker_id", UUID(as_uuid=True), primary_key=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)

result = Table(
    "result",
    Base.metadata,
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("result", JSONB),
    Column("expires_at", DateTime(timezone=True)),
    schema=SCHEMA,
)

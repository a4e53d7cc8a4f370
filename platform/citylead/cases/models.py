"""The case tables: cases, their append-only events, photos, and intake idempotency keys.

A case belongs to the county where the problem is (``tenant_id``). Two more tenants may act on it
without widening anyone's view: the command centre holding it (``command_tenant_id``: the county,
or its city after an escalation 疑难上报) and the assigned unit's tenant (``unit_tenant_id``: a
city-level department, or another county's unit). Row-level security lets exactly those read and
change it (migration 0007).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["Case", "CaseAttachment", "CaseEvent", "IntakeKey", "Source"]


class Source(enum.StrEnum):
    """Where a report came from (案件来源)."""

    SUPERVISOR = "supervisor"  # 监督员上报
    HOTLINE_12345 = "hotline_12345"  # 12345 热线
    HOTLINE_12319 = "hotline_12319"  # 12319 城建热线
    HOTLINE_110 = "hotline_110"  # 110 联动
    OPEN311 = "open311"  # 公众应用 (Open311)
    APP = "app"  # 公众 App / 网站
    LEADER = "leader"  # 领导批示
    MEDIA = "media"  # 媒体曝光
    VIDEO = "video"  # 视频发现
    INSPECTION = "inspection"  # 专项普查

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]

    @property
    def public(self) -> bool:
        """Public reports are verified on site before filing (核实)."""
        return self not in (Source.SUPERVISOR, Source.VIDEO, Source.INSPECTION)


_SOURCE_LABELS = {
    Source.SUPERVISOR: "监督员上报",
    Source.HOTLINE_12345: "12345热线",
    Source.HOTLINE_12319: "12319热线",
    Source.HOTLINE_110: "110联动",
    Source.OPEN311: "公众应用",
    Source.APP: "App/网站",
    Source.LEADER: "领导批示",
    Source.MEDIA: "媒体曝光",
    Source.VIDEO: "视频发现",
    Source.INSPECTION: "专项普查",
}


class Case(Base):
    __tablename__ = "cases"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    number: Mapped[str] = mapped_column(String(32))  # 案卷号: county-yyyymmdd-sequence
    kind: Mapped[str] = mapped_column(String(16))  # component 部件 | matter 事件
    class_code: Mapped[str] = mapped_column(String(8))
    class_name: Mapped[str] = mapped_column(String(128))
    urgency: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(255))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    component_id: Mapped[str | None] = mapped_column(String(17))
    reporter: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    external_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24))
    closing_type: Mapped[str | None] = mapped_column(String(16))
    standards: Mapped[dict[str, str]] = mapped_column(JSONB)  # kind → version vector, pinned at intake
    limits: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")  # pinned at filing
    command_tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    unit_tenant_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    unit_name: Mapped[str | None] = mapped_column(String(128))
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    step: Mapped[str | None] = mapped_column(String(16))  # the running clock: verify | dispose | check
    step_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    step_limit: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 80 % used: yellow
    stage_due: Mapped[list[list[str | None]]] = mapped_column(JSONB, server_default="[]")  # [name, due]
    paused: Mapped[list[list[str | None]]] = mapped_column(JSONB, server_default="[]")
    overdue: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    dispose_overdue: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    pending: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")  # an open request
    rework_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    return_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    postpone_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    duplicate_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    reported_by: Mapped[str] = mapped_column(String(255))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    filed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="RESTRICT"),
        Index("ix_cases_tenant_id_state", "tenant_id", "state"),
        Index("ix_cases_tenant_id_reported_at", "tenant_id", "reported_at"),
        Index("ix_cases_tenant_id_kind_class_code", "tenant_id", "kind", "class_code", "reported_at"),
        Index("ix_cases_unit", "unit_tenant_id", "unit_code", "state"),
        Index("ix_cases_command_tenant_id", "command_tenant_id", "state"),
        Index("ix_cases_due", "due_at", postgresql_where=text("step IS NOT NULL AND NOT overdue")),
        Index("uq_cases_number", "number", unique=True),
        Index("ix_cases_id", "id"),  # fetch by id (access_case_by_id) without scanning a county
    )


class CaseEvent(Base):
    """One transition (流转记录): append-only; the audit trail of a case."""

    __tablename__ = "case_events"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    actor_tenant: Mapped[str | None] = mapped_column(String(6))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="RESTRICT"),
    )


class CaseAttachment(Base):
    """A photo (照片) of a report, a disposal or a check; the bytes live in the blob store."""

    __tablename__ = "case_attachments"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    stage: Mapped[str] = mapped_column(String(16))  # report | dispose | check | verify
    key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="RESTRICT"),
    )


class IntakeKey(Base):
    """An ``Idempotency-Key`` a hotline system sent: a retry, even a concurrent one, finds the case."""

    __tablename__ = "intake_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    client: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            ondelete="RESTRICT",
            deferrable=True,
            initially="DEFERRED",  # the key is claimed before its case is written (see intake)
        ),
    )

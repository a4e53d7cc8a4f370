"""Onboarding jobs (接入任务): what was asked, the plan, each step's state and timings, the inputs.

All three tables belong to the tenant being onboarded (``tenant_id`` = the new county or city), so
the job is readable by that tenant's ancestors (the city or province admin who asked) through the
usual subtree rule, and is written only in the new tenant's own context, where the pipeline runs.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["JobState", "ProvisioningInput", "ProvisioningJob", "ProvisioningStep", "StepState"]


class JobState(enum.StrEnum):
    QUEUED = "queued"  # 排队
    RUNNING = "running"  # 进行中
    SUCCEEDED = "succeeded"  # 已完成
    FAILED = "failed"  # 失败

    @property
    def label(self) -> str:
        return {"queued": "排队", "running": "进行中", "succeeded": "已完成", "failed": "失败"}[self.value]


class StepState(enum.StrEnum):
    PENDING = "pending"
    QUEUED = "queued"  # its message is on its way
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


ACTIVE = ("queued", "running")


class ProvisioningJob(Base):
    __tablename__ = "provisioning_jobs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    kind: Mapped[str] = mapped_column(String(16))  # county | city
    template: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16), server_default=text("'queued'"))
    requested_by: Mapped[str] = mapped_column(String(255))
    options: Mapped[dict[str, Any]] = mapped_column(JSONB)  # admin, file names and sizes, manifest
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # one unfinished job per tenant: a second request while one runs is a 409
        Index(
            "ix_provisioning_jobs_active",
            "tenant_id",
            unique=True,
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
        Index("ix_provisioning_jobs_id", "id"),
    )


class ProvisioningStep(Base):
    __tablename__ = "provisioning_steps"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["provisioning_jobs.tenant_id", "provisioning_jobs.id"],
            ondelete="CASCADE",
        ),
    )


class ProvisioningInput(Base):
    """An input file of a job, kept until the job is done (nothing is lost if a worker dies)."""

    __tablename__ = "provisioning_inputs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(16), primary_key=True)  # grids | units | components | secret
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    secret: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["provisioning_jobs.tenant_id", "provisioning_jobs.id"],
            ondelete="CASCADE",
        ),
    )

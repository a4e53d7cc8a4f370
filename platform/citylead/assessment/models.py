"""The roll-up table (考核计数表): one row of counters per county, period and subject."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["AssessmentCounters"]


class AssessmentCounters(Base):
    """The counters of one subject (county, street, grid, department unit or post) in one period."""

    __tablename__ = "assessment_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # 2026-10 | 2026Q4 | 2026
    subject_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_code: Mapped[str] = mapped_column(String(255), primary_key=True)
    counters: Mapped[dict[str, int]] = mapped_column(JSONB)
    rules: Mapped[str | None] = mapped_column(String(255))  # the assessment version vector in force
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="RESTRICT"),)

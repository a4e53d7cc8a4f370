"""The roll-up tables: counters per county, period and subject (考核计数表), the per-case facts they
are summed from (考核事实表) with their monthly sums, and the cases whose facts are out of date."""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from citylead.assessment.counters import Counters
from tenants.orm import Base

__all__ = ["AssessmentCounters", "AssessmentStale", "assessment_facts", "assessment_sums"]


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


def _subjects(*, nullable: bool) -> list[Column[Any]]:
    """Whom a fact counts for: the case's regions (county, street, grid), a post, a unit."""
    return [
        Column("regions", Boolean, nullable=False),  # counts for the county, the street and the grid
        Column("street", String(9), nullable=nullable),  # the case's, on region facts
        Column("grid", String(15), nullable=nullable),
        Column("post_type", String(16), nullable=nullable),  # supervisor | intake | shift_lead | dispatcher
        Column("post_code", String(255), nullable=nullable),  # the username
        Column("unit", String(64), nullable=nullable),  # TENANT:UNIT
    ]


assessment_facts = Table(
    "assessment_facts",
    Base.metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("case_id", UUID(as_uuid=True), nullable=False),
    Column("n", SmallInteger, nullable=False),  # the fact's number within its case
    Column("at", DateTime(timezone=True), nullable=False),  # places it in a period
    *_subjects(nullable=True),
    Column("pending_until", DateTime(timezone=True)),  # a due clock's disposal (NULL: none)
    *(Column(f.name, SmallInteger) for f in fields(Counters)),  # NULL for 0
    PrimaryKeyConstraint("tenant_id", "case_id", "n"),
    ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
)
"""考核事实: what each case adds to the counters, and when (``citylead.assessment.facts``)."""

_KEY = ("regions", "street", "grid", "post_type", "post_code", "unit", "pending_month")
assessment_sums = Table(
    "assessment_sums",
    Base.metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),  # the Beijing month of the facts' ``at``
    *_subjects(nullable=False),  # '' for none
    Column("pending_month", Date, nullable=False),  # the month of ``pending_until`` ('infinity': none)
    Column("facts", Integer, nullable=False),  # 0: nothing left here (not a subject)
    *(Column(f.name, Integer, nullable=False) for f in fields(Counters)),
    PrimaryKeyConstraint("tenant_id", "month", *_KEY),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="RESTRICT"),
)
"""The facts summed per county, month and (regions, street, grid, post, unit, pending month): what a
period's counters are read from (``citylead.assessment.rollup``), kept by adding each rebuilt case's
new facts and subtracting its old ones (``citylead.assessment.fact_store``)."""


class AssessmentStale(Base):
    """A case whose facts are out of date: marked by a trigger when events are added to it."""

    __tablename__ = "assessment_stale"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"], ondelete="CASCADE"),
    )

"""Every mapped table, imported in one place so migrations and schema tests see them all.

The schema is one: this module is part of the composition root, so it may import ``provisioning``."""

from citylead.assessment.models import AssessmentCounters, AssessmentStale, assessment_facts, assessment_sums
from citylead.cases.models import Case, CaseAttachment, CaseEvent, IntakeKey
from citylead.cases.volume import CaseDay, CaseVolume
from citylead.geography.models import Community, Geography, Grid, Street
from citylead.identity.idp import models as idp_models
from citylead.jobs import broker_tables
from citylead.jobs.notifications import Notification
from citylead.jobs.outbox import OutboxMessage
from citylead.open311.keys import Open311Client
from citylead.units.models import Component, Unit
from provisioning.models import ProvisioningInput, ProvisioningJob, ProvisioningStep
from tenants.audit import AuditEvent
from tenants.models import Tenant
from tenants.orm import Base
from tenants.profiles import TenantProfile
from tenants.standards.models import StandardDraft, StandardVersion

metadata = Base.metadata

__all__ = [
    "AssessmentCounters",
    "AssessmentStale",
    "AuditEvent",
    "Case",
    "CaseAttachment",
    "CaseDay",
    "CaseEvent",
    "CaseVolume",
    "Community",
    "Component",
    "Geography",
    "Grid",
    "IntakeKey",
    "Notification",
    "Open311Client",
    "OutboxMessage",
    "ProvisioningInput",
    "ProvisioningJob",
    "ProvisioningStep",
    "StandardDraft",
    "StandardVersion",
    "Street",
    "Tenant",
    "TenantProfile",
    "Unit",
    "assessment_facts",
    "assessment_sums",
    "broker_tables",
    "idp_models",
    "metadata",
]

"""Every mapped table, imported in one place so migrations and schema tests see them all."""

from citylead.identity.idp import models as idp_models
from citylead.jobs.outbox import OutboxMessage
from tenants.audit import AuditEvent
from tenants.models import Tenant
from tenants.orm import Base
from tenants.profiles import TenantProfile
from tenants.standards.models import StandardDraft, StandardVersion

metadata = Base.metadata

__all__ = [
    "AuditEvent",
    "OutboxMessage",
    "StandardDraft",
    "StandardVersion",
    "Tenant",
    "TenantProfile",
    "idp_models",
    "metadata",
]

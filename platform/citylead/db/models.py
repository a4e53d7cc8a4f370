"""Every mapped table, imported in one place so migrations and schema tests see them all."""

from citylead.identity.idp import models as idp_models
from tenants.audit import AuditEvent
from tenants.models import Tenant
from tenants.orm import Base
from tenants.profiles import TenantProfile

metadata = Base.metadata

__all__ = ["AuditEvent", "Tenant", "TenantProfile", "idp_models", "metadata"]

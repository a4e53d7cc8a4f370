"""Tenant profile (单位概况): contacts and operating modes a tenant keeps about itself.

The supervision and command modes follow the variants the source articles describe: the city's
own supervision with district command (市辖区), own supervision and command with city backing
(县级市), or two supervision levels with one command level (县城).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants import audit
from tenants.errors import Conflict
from tenants.models import Tenant
from tenants.orm import Base

__all__ = ["CommandMode", "SupervisionMode", "TenantProfile", "do_update_profile", "get_profile"]


class SupervisionMode(enum.StrEnum):
    CITY = "city"  # 由市级监督中心监督
    OWN = "own"  # 本级监督中心
    TWO_LEVEL = "two_level"  # 两级监督


class CommandMode(enum.StrEnum):
    CITY = "city"  # 市级指挥中心派遣
    OWN = "own"  # 本级指挥中心
    OWN_WITH_CITY_BACKING = "own_with_city_backing"  # 自主指挥，市级兜底


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(e, name=name, values_callable=lambda x: [m.value for m in x], native_enum=False, length=32)


class TenantProfile(Base):
    __tablename__ = "tenant_profiles"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    supervision_mode: Mapped[SupervisionMode | None] = mapped_column(
        _enum(SupervisionMode, "supervision_mode")
    )
    command_mode: Mapped[CommandMode | None] = mapped_column(_enum(CommandMode, "command_mode"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


PROFILE_FIELDS = ("contact_name", "contact_phone", "contact_email", "supervision_mode", "command_mode")


async def get_profile(session: AsyncSession, tenant: Tenant) -> TenantProfile | None:
    return await session.scalar(select(TenantProfile).where(TenantProfile.tenant_id == tenant.id))


async def do_update_profile(
    session: AsyncSession,
    tenant: Tenant,
    changes: dict[str, object],
    *,
    expected_version: int | None,
    acting_user: str,
) -> TenantProfile:
    """Create or update the profile. ``expected_version`` guards against lost updates (409).

    The caller's transaction must be in ``tenant``'s own context: row-level security lets a tenant
    write only its own rows.
    """
    profile = await session.scalar(
        select(TenantProfile).where(TenantProfile.tenant_id == tenant.id).with_for_update()
    )
    current = profile.version if profile else 0
    if expected_version is not None and expected_version != current:
        raise Conflict(
            f"the profile was changed by someone else (version {current}, you sent {expected_version})",
            current_version=current,
        )
    if profile is None:
        profile = TenantProfile(tenant_id=tenant.id, version=1)
        session.add(profile)
    else:
        profile.version = current + 1
    for name, value in changes.items():
        setattr(profile, name, value)
    profile.updated_by = acting_user
    profile.updated_at = func.now()
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent first save won the insert race (nothing locked yet)
        raise Conflict("the profile was created by someone else at the same time", current_version=1) from exc
    await audit.record(
        session,
        tenant.id,
        actor=acting_user,
        action="tenant.profile_updated",
        subject=f"tenant:{tenant.code}",
        changes={k: (v.value if isinstance(v, enum.Enum) else v) for k, v in changes.items()},
        version=profile.version,
    )
    await session.flush()
    await session.refresh(profile)
    return profile

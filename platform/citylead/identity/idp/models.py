"""Tables of the embedded identity provider (schema ``idp``), shaped after Keycloak's realm model.

One realm only: users with a password hash, a group tree addressed by full path
(``/32/3204/320411``), realm roles, OAuth clients and the sessions behind refresh tokens.
Not tenant-owned: no row-level security; only the provider's own code reads these tables.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from tenants.orm import Base

__all__ = ["IdpClient", "IdpGroup", "IdpRealmRole", "IdpSession", "IdpUser", "UserGroup", "UserRealmRole"]

SCHEMA = "idp"


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid())


class IdpUser(Base):
    """A user (Keycloak ``UserEntity``); service accounts carry the id of their client."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = _uuid_pk()
    username: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    service_account_client_id: Mapped[str | None] = mapped_column(String(255), unique=True)

    __table_args__ = (
        CheckConstraint("username = lower(username)", name="username_lower"),
        {"schema": SCHEMA},
    )

    @property
    def full_name(self) -> str | None:
        """Keycloak's ``name`` claim: given and family name joined by a space."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or None


class IdpGroup(Base):
    """A group in the tree; ``path`` is the full path Keycloak puts in the ``groups`` claim."""

    __tablename__ = "groups"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("idp.groups.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text(collation="C"), unique=True)

    __table_args__ = (
        CheckConstraint("path ~ '^(/[^/]+)+$'", name="path_shape"),
        Index("ix_groups_parent_id", "parent_id"),
        {"schema": SCHEMA},
    )


class UserGroup(Base):
    """Group membership (``user_group_membership``)."""

    __tablename__ = "user_groups"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp.users.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp.groups.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_user_groups_group_id", "group_id"), {"schema": SCHEMA})


class IdpRealmRole(Base):
    """A realm role (``realm_access.roles`` in tokens)."""

    __tablename__ = "realm_roles"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = {"schema": SCHEMA}  # noqa: RUF012


class UserRealmRole(Base):
    """A direct realm-role mapping of a user (``user_role_mapping``)."""

    __tablename__ = "user_realm_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp.users.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp.realm_roles.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_user_realm_roles_role_id", "role_id"), {"schema": SCHEMA})


class IdpClient(Base):
    """An OAuth client. Confidential clients have a secret and a service account whose realm roles
    are ``service_account_roles``; ``service_account_admin`` grants it the realm-management roles."""

    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = _uuid_pk()
    client_id: Mapped[str] = mapped_column(String(255), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean)
    direct_access_grants: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    service_account_roles: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    service_account_admin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        CheckConstraint("public OR secret_hash IS NOT NULL", name="confidential_has_secret"),
        {"schema": SCHEMA},
    )


class IdpSession(Base):
    """A user session (Keycloak ``UserSessionModel``): refresh tokens name it in ``sid``."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("idp.users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_sessions_user_id", "user_id"),
        Index("ix_sessions_expires_at", "expires_at"),
        {"schema": SCHEMA},
    )

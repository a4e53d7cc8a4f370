"""Embedded identity provider: schema ``idp`` (users, groups, realm roles, clients, sessions).

Not tenant-owned (no row-level security): the Keycloak-compatible provider under ``/idp`` owns it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "idp"
TABLES = ("users", "groups", "user_groups", "realm_roles", "user_realm_roles", "clients", "sessions")


def _id() -> sa.Column[Any]:
    return sa.Column("id", pg.UUID(as_uuid=True), server_default=sa.func.gen_random_uuid(), nullable=False)


def upgrade() -> None:
    config = op.get_context().config
    assert config is not None
    app = config.attributes["app_role"]
    op.execute(f"CREATE SCHEMA {S}")

    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("first_name", sa.String(255), nullable=True),
        sa.Column("last_name", sa.String(255), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("service_account_client_id", sa.String(255), nullable=True),
        sa.CheckConstraint("username = lower(username)", name="ck_users_username_lower"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("service_account_client_id", name="uq_users_service_account_client_id"),
        schema=S,
    )

    op.create_table(
        "groups",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("parent_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("path", sa.Text(collation="C"), nullable=False),
        sa.CheckConstraint("path ~ '^(/[^/]+)+$'", name="ck_groups_path_shape"),
        sa.ForeignKeyConstraint(
            ["parent_id"], [f"{S}.groups.id"], ondelete="CASCADE", name="fk_groups_parent_id_groups"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("path", name="uq_groups_path"),
        schema=S,
    )
    op.create_index("ix_groups_parent_id", "groups", ["parent_id"], schema=S)

    op.create_table(
        "user_groups",
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("group_id", pg.UUID(as_uuid=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], ondelete="CASCADE", name="fk_user_groups_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], [f"{S}.groups.id"], ondelete="CASCADE", name="fk_user_groups_group_id_groups"
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name="pk_user_groups"),
        schema=S,
    )
    op.create_index("ix_user_groups_group_id", "user_groups", ["group_id"], schema=S)

    op.create_table(
        "realm_roles",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_realm_roles"),
        sa.UniqueConstraint("name", name="uq_realm_roles_name"),
        schema=S,
    )

    op.create_table(
        "user_realm_roles",
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("role_id", pg.UUID(as_uuid=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], ondelete="CASCADE", name="fk_user_realm_roles_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            [f"{S}.realm_roles.id"],
            ondelete="CASCADE",
            name="fk_user_realm_roles_role_id_realm_roles",
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name="pk_user_realm_roles"),
        schema=S,
    )
    op.create_index("ix_user_realm_roles_role_id", "user_realm_roles", ["role_id"], schema=S)

    op.create_table(
        "clients",
        _id(),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("direct_access_grants", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "service_account_roles", pg.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("service_account_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("public OR secret_hash IS NOT NULL", name="ck_clients_confidential_has_secret"),
        sa.PrimaryKeyConstraint("id", name="pk_clients"),
        sa.UniqueConstraint("client_id", name="uq_clients_client_id"),
        schema=S,
    )

    op.create_table(
        "sessions",
        _id(),
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{S}.users.id"], ondelete="CASCADE", name="fk_sessions_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        schema=S,
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"], schema=S)
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"], schema=S)

    op.execute(f'GRANT USAGE ON SCHEMA {S} TO "{app}"')
    tables = ", ".join(f"{S}.{t}" for t in TABLES)
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO "{app}"')


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {S} CASCADE")

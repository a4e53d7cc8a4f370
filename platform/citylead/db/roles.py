"""The two database roles, and the URLs each part of the platform connects with.

- the **owner** (``citylead_owner``): owns the schema, runs migrations and bulk maintenance
  (registry loads, the demo seed). It has BYPASSRLS and is never used to serve requests.
- the **application role** (``citylead_app``): what the API, workers and dashboard log in as.
  Not an owner, no BYPASSRLS, so forced row-level security always applies to it.

Given an administrator URL (a superuser, as on the embedded server or a CI service), bootstrap
creates both roles and, if asked, the database. Given a non-superuser URL, that user *is* the
owner and the application role must exist already (or the owner must have CREATEROLE).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import URL, make_url

from tenants.errors import ServiceUnavailable

__all__ = ["DatabaseUrls", "bootstrap", "to_asyncpg"]


@dataclass(frozen=True)
class DatabaseUrls:
    """SQLAlchemy URLs (``postgresql+asyncpg://``) for the owner and the application role."""

    owner: str
    app: str
    owner_role: str | None  # a role to SET at connect when the owner URL logs in as a superuser


def _sa(url: str | URL) -> URL:
    u = make_url(url) if isinstance(url, str) else url
    return u.set(drivername="postgresql+asyncpg")


def to_asyncpg(url: str | URL) -> str:
    """The same URL for plain asyncpg (``postgresql://``)."""
    return _sa(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _ensure_role(conn: asyncpg.Connection, name: str, attrs: str, password: str | None) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
    verb = "ALTER" if exists else "CREATE"
    sql = f"{verb} ROLE {_quote_ident(name)} {attrs}"
    if password is not None:
        # DDL takes no bind parameters; quote the literal the way PostgreSQL does.
        sql += " PASSWORD '" + password.replace("'", "''") + "'"
    await conn.execute(sql)


async def _create_named_database(url: URL) -> None:
    conn = await asyncpg.connect(to_asyncpg(url.set(database="postgres")))
    try:
        await conn.execute(f"CREATE DATABASE {_quote_ident(url.database or '')}")
    finally:
        await conn.close()


async def bootstrap(
    admin_url: str,
    *,
    owner_role: str,
    app_role: str,
    app_password: str | None = None,
    database: str | None = None,
    app_url: str | None = None,
) -> DatabaseUrls:
    """Make sure both roles (and ``database``, if given) exist; return the URLs to use."""
    admin = _sa(admin_url)
    try:
        try:
            conn = await asyncpg.connect(to_asyncpg(admin))
        except asyncpg.InvalidCatalogNameError:
            # The URL names a database that does not exist yet: create it if this login may.
            await _create_named_database(admin)
            conn = await asyncpg.connect(to_asyncpg(admin))
    except (OSError, asyncpg.PostgresError) as exc:
        raise ServiceUnavailable(
            f"cannot connect to PostgreSQL at {admin.render_as_string()}: {exc}"
        ) from exc
    try:
        is_super = await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        login_user = await conn.fetchval("SELECT current_user")
        if is_super:
            await _ensure_role(conn, owner_role, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS", None)
            await _ensure_role(
                conn,
                app_role,
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT",
                app_password,
            )
            if database and not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                await conn.execute(
                    f"CREATE DATABASE {_quote_ident(database)} OWNER {_quote_ident(owner_role)}"
                )
        else:
            owner_role = login_user
            has_app = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", app_role)
            if not has_app:
                await _ensure_role(conn, app_role, "LOGIN NOBYPASSRLS NOINHERIT", app_password)
    except asyncpg.PostgresError as exc:
        raise ServiceUnavailable(f"cannot prepare database roles: {exc}") from exc
    finally:
        await conn.close()

    target = admin.set(database=database) if database else admin
    if is_super:
        db_conn = await asyncpg.connect(to_asyncpg(target))
        try:
            dbname = _quote_ident(target.database or "postgres")
            await db_conn.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {_quote_ident(owner_role)}")
            # The owner creates schemas (idp) in a database it may not own (an operator's URL).
            await db_conn.execute(f"GRANT CONNECT, CREATE ON DATABASE {dbname} TO {_quote_ident(owner_role)}")
            await db_conn.execute(f"GRANT CONNECT ON DATABASE {dbname} TO {_quote_ident(app_role)}")
        finally:
            await db_conn.close()
    app = _sa(app_url) if app_url else target.set(username=app_role, password=app_password)
    return DatabaseUrls(
        owner=target.render_as_string(hide_password=False),
        app=app.render_as_string(hide_password=False),
        owner_role=owner_role if is_super else None,
    )

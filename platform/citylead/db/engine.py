"""The application's database handle: every transaction enters a tenant context (or none)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from tenants.context import TenantContext, bind_context, install_context_hook

__all__ = ["ContextSession", "Database"]


class ContextSession(Session):
    """A session whose transactions run ``citylead_enter`` for the bound tenant context."""


install_context_hook(ContextSession)


class Database:
    """Owns one async engine. Connects as whatever role the URL names (the app role in the app)."""

    def __init__(self, url: str, *, role: str | None = None, pool_size: int = 10, echo: bool = False) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, echo=echo
        )
        if role:  # an administrator login acting as the owner role (see citylead.db.roles)
            event.listen(self.engine.sync_engine, "connect", _set_role(role))
        self.sessions = async_sessionmaker(
            self.engine, sync_session_class=ContextSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def transaction(self, context: TenantContext | None) -> AsyncIterator[AsyncSession]:
        """One transaction in ``context``; commits on success, rolls back on any exception.

        With ``context=None`` no tenant setting is made, so tenant-owned rows are invisible.
        """
        async with self.sessions() as session:
            bind_context(session.sync_session, context)
            async with session.begin():
                yield session

    async def ping(self) -> str | None:
        """The migration revision at the database, or raise if it cannot be reached."""
        async with self.engine.connect() as conn:
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))
        return str(revision) if revision is not None else None

    async def dispose(self) -> None:
        await self.engine.dispose()


def _set_role(role: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET ROLE "{role}"')
        cursor.close()

    return on_connect

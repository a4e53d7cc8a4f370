"""Alembic environment: async, transactional DDL, run as the owner role."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from citylead.db.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    owner_role = config.attributes.get("owner_role")
    if owner_role:
        connection.execute(text(f'SET ROLE "{owner_role}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_async_engine(config.attributes["url"])
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `citylead migrate` against a database")
asyncio.run(_main())

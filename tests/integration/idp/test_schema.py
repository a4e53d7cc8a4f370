"""Migration 0002 and the ``idp`` models agree: alembic autogenerate finds nothing to do."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

import citylead.identity.idp.models  # noqa: F401  (registers the idp tables)
from citylead.db import Database
from tenants.orm import Base


def _only_idp(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    if type_ == "schema":
        return name == "idp"
    return True


def _idp_objects(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return getattr(table, "schema", None) == "idp"


def _diff(conn: Connection, metadata: MetaData) -> list[Any]:
    opts = {
        "include_schemas": True,
        "include_name": _only_idp,
        "include_object": _idp_objects,
        "compare_type": True,
        "compare_server_default": True,
    }
    context = MigrationContext.configure(conn, opts=opts)
    return list(compare_metadata(context, metadata))


async def test_autogenerate_finds_no_difference(owner_db: Database) -> None:
    async with owner_db.engine.connect() as conn:
        diff = await conn.run_sync(_diff, Base.metadata)
        # ... and the comparison does look at the idp tables: one left out is noticed.
        partial = MetaData(naming_convention=Base.metadata.naming_convention)
        for key, table in Base.metadata.tables.items():
            if table.schema == "idp" and key != "idp.user_realm_roles":
                table.to_metadata(partial)
        partial_diff = await conn.run_sync(_diff, partial)
    assert diff == []
    removed = [d[1].fullname for d in partial_diff if d[0] == "remove_table"]
    assert removed == ["idp.user_realm_roles"]


async def test_app_role_may_use_the_idp_tables(app_db: Database) -> None:
    from sqlalchemy import text

    async with app_db.transaction(None) as s:
        privileges = await s.scalar(
            text("SELECT has_table_privilege('idp.sessions', 'SELECT, INSERT, UPDATE, DELETE')")
        )
    assert privileges is True

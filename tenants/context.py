"""The tenant context of a transaction: who acts, and which part of the tree they may see.

Row-level security reads four transaction-local settings, all set in one round trip by the
``citylead_enter(path)`` database function at the start of every transaction:

- ``app.path``      the acting tenant's materialized path (``/32/3204/320411/``);
- ``app.tenant_id`` the acting tenant's id: the only tenant whose rows may be written;
- ``app.visible``   ids of the acting tenant and its whole subtree: what may be read;
- ``app.lineage``   ids of the acting tenant and its ancestors (inherited standards read upward).

A transaction begun with no context calls nothing, so every setting is empty and every
tenant-owned query returns no rows.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from tenants.errors import InvalidInput

__all__ = [
    "TenantContext",
    "acting_as",
    "bind_context",
    "code_of_path",
    "install_context_hook",
    "path_of_group",
]

_PATH = re.compile(r"^/\d{2}/(\d{4}/)?(\d{6}/)?$")
_INFO_KEY = "citylead.tenant_path"


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The acting tenant, by its materialized path."""

    path: str

    def __post_init__(self) -> None:
        if not _PATH.match(self.path):
            raise InvalidInput(f"not a tenant path: {self.path!r}")

    @property
    def code(self) -> str:
        return code_of_path(self.path)


def code_of_path(path: str) -> str:
    """``/32/3204/320411/`` → ``320411``; ``/32/`` → ``320000``."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last.ljust(6, "0")


def path_of_group(group_path: str) -> str:
    """A directory group path (``/32/3204/320411``) is the tenant path without the final slash."""
    return group_path.rstrip("/") + "/"


_ENTER = text("SELECT citylead_enter(:path)")


def _enter(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    path = session.info.get(_INFO_KEY)
    if path is not None and transaction.parent is None:
        connection.execute(_ENTER, {"path": path})


@asynccontextmanager
async def acting_as(
    session: AsyncSession, context: TenantContext, *, then: TenantContext
) -> AsyncIterator[None]:
    """Run part of the current transaction in ``context`` (a write in another tenant's rows, e.g. a
    publish dropping a county's override), then return to ``then``."""
    await session.execute(_ENTER, {"path": context.path})
    try:
        yield
    finally:
        await session.execute(_ENTER, {"path": then.path})


def install_context_hook(session_class: type[Session]) -> None:
    """Make every transaction of ``session_class`` enter its session's tenant context."""
    if not event.contains(session_class, "after_begin", _enter):
        event.listen(session_class, "after_begin", _enter)


def bind_context(session: Session, context: TenantContext | None) -> None:
    """Set (or clear) the context the session's next transactions enter."""
    session.info[_INFO_KEY] = context.path if context else None

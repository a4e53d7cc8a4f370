"""Shared by the ``citylead`` commands: the console, settings, and friendly failures."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from rich.console import Console

from citylead.settings import Settings
from tenants.errors import CityleadError, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tenants.models import Tenant

__all__ = ["cli_actor", "console", "friendly", "in_tenant", "load_settings"]

# Tables keep their full paths when the output is a pipe or a file (rich would assume 80 columns).
console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 160)
F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn expected failures into one clear line and exit status 1, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CityleadError as exc:
            console.print(f"[bold red]citylead:[/] {exc.detail}", soft_wrap=True)
            for problem in exc.errors if isinstance(exc, InvalidInput) else []:
                upper = f" (upper: {problem.upper!r}, set by {problem.set_by})" if problem.set_by else ""
                console.print(f"  {problem.field}: {problem.rule}{upper}", soft_wrap=True, markup=False)
            for conflict in exc.extra.get("conflicts", []):
                console.print(
                    f"  {conflict['tenant']} {conflict['path']}: {conflict['detail']}",
                    soft_wrap=True,
                    markup=False,
                )
            sys.exit(1)
        except ValidationError as exc:
            console.print("[bold red]citylead: invalid settings[/]")
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"]) or "settings"
                console.print(f"  CITYLEAD_{loc.upper()}: {err['msg']}")
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def load_settings(**server: Any) -> Settings:
    settings = Settings()
    overrides = {k: v for k, v in server.items() if v is not None}
    if overrides:
        settings.server = settings.server.model_copy(update=overrides)
    return settings


T = TypeVar("T")


def cli_actor() -> str:
    """Who a command acts as in audit events and case histories: ``cli:<login>``."""
    return f"cli:{getpass.getuser()}"


def in_tenant(
    code: str,
    work: Callable[[AsyncSession, Tenant], Awaitable[T]],
    *,
    boundary: bool = False,
    from_parent: bool = False,
    isolation_level: str | None = None,
) -> T:
    """Prepare the database, then run ``work`` in one transaction in tenant ``code``'s context, as
    the application role (row-level security applies to commands too). ``from_parent``: in its
    parent's context instead (the province's for a province), where a tenant's status changes;
    ``isolation_level``: e.g. ``REPEATABLE READ``, set before the first query."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased, undefer

    from citylead.db import Database
    from citylead.runtime import prepare
    from tenants.context import TenantContext
    from tenants.errors import NotFound
    from tenants.models import Tenant

    runtime = prepare(load_settings())
    parent = aliased(Tenant)

    async def go() -> T:
        async with runtime.owner_database() as owner, owner.transaction(None) as s:
            query = select(Tenant.path, parent.path).outerjoin(parent, Tenant.parent_id == parent.id)
            row = (await s.execute(query.where(Tenant.code == code))).first()
        if row is None:
            raise NotFound(f"no tenant {code}; register its province first with `citylead registry load`")
        path = (row[1] or row[0]) if from_parent else row[0]
        db = Database(runtime.urls.app, pool_size=1)
        try:
            async with db.transaction(TenantContext(path)) as s:
                if isolation_level is not None:
                    await s.connection(execution_options={"isolation_level": isolation_level})
                own = select(Tenant).where(Tenant.code == code)
                tenant = await s.scalar(own.options(undefer(Tenant.boundary)) if boundary else own)
                assert tenant is not None
                return await work(s, tenant)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    finally:
        runtime.stop()

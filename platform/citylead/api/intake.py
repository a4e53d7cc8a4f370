"""``/api/v1/intake/hotline``: calls from 12345 / 12319 / 110 systems become cases.

Hotline systems sign in with client credentials (a service account with the intake role, in a
city or county group) and send an ``Idempotency-Key``: a retry, even a concurrent one, returns the
same case (200, ``Idempotency-Replayed: true``); the first call answers 201.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.api.case_io import case_view, decode, report_of
from citylead.api.cases_schemas import CaseOut, HotlineIn
from citylead.cases.access import Actor
from citylead.cases.intake import do_report
from citylead.cases.models import Source
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.identity.principal import Principal, Role
from tenants.context import TenantContext
from tenants.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.standards.resolver import Resolver

__all__ = ["HotlineController"]

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Resolve = NamedDependency[Resolver]
Locate = NamedDependency[Locator]
HOTLINE_SOURCES = {"12345": Source.HOTLINE_12345, "12319": Source.HOTLINE_12319, "110": Source.HOTLINE_110}


class HotlineController(Controller):
    """Hotline systems (12345 / 12319 / 110) sign in with client credentials (role intake) and send
    an ``Idempotency-Key``: a retry, even a concurrent one, returns the same case."""

    path = "/intake"
    tags = ["intake"]  # noqa: RUF012

    @post("/hotline", status_code=201, summary="A hotline call becomes a case (Idempotency-Key required)")
    async def hotline(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        resolver: Resolve,
        locator: Locate,
    ) -> Response[CaseOut]:
        if not principal.has_any(Role.INTAKE):
            raise Forbidden("hotline intake needs a client with the intake role")
        key = (request.headers.get("idempotency-key") or "").strip()
        if not key or len(key) > 128:
            raise InvalidInput(
                "an Idempotency-Key header is required",
                errors=[FieldProblem("Idempotency-Key", "required, 1–128 characters", key or None)],
            )
        data = decode(await request.body(), HotlineIn)
        async with db.transaction(principal.context) as s:
            home = await s.scalar(select(Tenant).where(Tenant.path == principal.tenant_path))
            if home is None:
                raise NotFound("your tenant is not registered")
            county = await _county_for(s, locator, home, data)
        async with db.transaction(TenantContext(county.path)) as s:
            county = await s.get_one(Tenant, county.id)
            intake = await do_report(
                s,
                county,
                report_of(data, HOTLINE_SOURCES[data.hotline], data.caller, data.ticket),
                resolver=resolver,
                locator=locator,
                acting_user=principal.username,
                idempotency=(principal.subject or principal.username, key),
            )
            actor = Actor(principal.username, principal.roles, county)
            out = await case_view(s, intake.case, actor)
        replayed = not intake.created and not intake.joined
        return Response(
            out,
            status_code=201 if intake.created else 200,
            headers={
                "Idempotency-Replayed": "true" if replayed else "false",
                "Location": f"/api/v1/cases/{out.id}",
            },
        )


async def _county_for(s: AsyncSession, locator: Locator, home: Tenant, data: HotlineIn) -> Tenant:
    """The county the call belongs to: the one named (within the client's tree), else the one whose
    boundary holds the point."""
    if data.county is not None:
        county = await s.scalar(
            select(Tenant).where(Tenant.code == data.county, Tenant.path.op("^@")(home.path))
        )
        if county is None:
            raise InvalidInput(
                "unknown county", errors=[FieldProblem("county", "a county under your tenant", data.county)]
            )
        return county
    county = await locator.county_of(s, home, data.lon, data.lat)
    if county is None:
        raise InvalidInput(
            "the location is in no county you serve",
            errors=[FieldProblem("location", f"must lie in a county of {home.name}", [data.lon, data.lat])],
        )
    return county

"""``/api/v1/tenants/{code}/units`` and ``/api/v1/tenants/{code}/components``.

Readers: any operating role of the tenant or above; a county also reads its ancestors' units (city
departments take county cases). Writers: administrators of the tenant or above (a county admin of
its county, a city admin for the city and its counties). Writes run in the target tenant's own
context: row-level security lets a tenant write only its rows, so a county never changes its city's.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.db import Database
from citylead.identity.policy import require_admin_over
from citylead.identity.principal import Principal
from citylead.units.inventory import do_import_components, get_component, list_components
from citylead.units.models import ComponentState, UnitKind
from citylead.units.schemas import (
    ComponentListOut,
    ComponentOut,
    ImportOut,
    UnitIn,
    UnitListOut,
    UnitOut,
    UnitPatchIn,
)
from citylead.units.service import access_unit, do_create_unit, do_update_unit, lineage, list_units
from tenants.context import TenantContext
from tenants.errors import Forbidden
from tenants.models import Tenant
from tenants.service import access_tenant_by_code
from tenants.standards.resolver import Resolver

__all__ = ["ComponentController", "UnitController"]

Code = Annotated[str, PathParameter(pattern=r"^[0-9]{6}$", description="GB/T 2260 code, six digits")]
UnitCode = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="unit code")]
ObjectId = Annotated[str, PathParameter(pattern=r"^[0-9]{16,17}$", description="component object id")]
Page = Annotated[int, QueryParameter(ge=1)]
PageSize = Annotated[int, QueryParameter(ge=1, le=500)]
Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Resolve = NamedDependency[Resolver]
IMPORT_MAX_BYTES = 64 * 1024 * 1024  # ~400,000 CSV rows; the service caps objects per import


def _require_role(principal: Principal) -> None:
    if not principal.roles:
        raise Forbidden("this needs a platform role")


async def _target(s: AsyncSession, principal: Principal, code: str, *, ancestors: bool = False) -> Tenant:
    _require_role(principal)
    return (await access_tenant_by_code(s, principal.context, code, ancestors=ancestors)).tenant


async def _codes(s: AsyncSession, tenant: Tenant) -> dict[uuid.UUID, str]:
    return {t.id: t.code for t in await lineage(s, tenant)}


class UnitController(Controller):
    path = "/tenants/{code:str}/units"
    tags = ["units"]  # noqa: RUF012

    @get("/", summary="Units of a tenant (with lineage=true: and of the tenants above it)")
    async def list(
        self,
        db: Db,
        principal: Caller,
        code: Code,
        kind: Annotated[
            UnitKind | None, QueryParameter(description="sector, territorial or shopfront")
        ] = None,
        sector: Annotated[str | None, QueryParameter(description="department type, e.g. 城管执法")] = None,
        street: Annotated[
            str | None, QueryParameter(pattern=r"^[0-9]{9}$", description="street code")
        ] = None,
        active: Annotated[bool | None, QueryParameter(description="only active or inactive units")] = None,
        lineage_: Annotated[
            bool, QueryParameter(name="lineage", description="include ancestors' units")
        ] = False,
        page: Page = 1,
        page_size: PageSize = 100,
    ) -> UnitListOut:
        async with db.transaction(principal.context) as s:
            target = await _target(s, principal, code, ancestors=True)
            above = await lineage(s, target)
            tenants = above if lineage_ else [target]
            result = await list_units(
                s,
                tenants,
                kind=kind,
                sector=sector,
                street_code=street,
                active=active,
                page=page,
                page_size=page_size,
            )
            return UnitListOut.of(result, {t.id: t.code for t in above})

    @post("/", summary="Create a unit in the tenant")
    async def create(self, db: Db, principal: Caller, code: Code, data: JSONBody[UnitIn]) -> UnitOut:
        async with db.transaction(principal.context) as s:
            target = await _target(s, principal, code)
        require_admin_over(principal, target)
        async with db.transaction(TenantContext(target.path)) as s:
            unit = await do_create_unit(s, target, data.values(), acting_user=principal.username)
            return UnitOut.of(unit, {target.id: target.code})

    @get("/{unit:str}", summary="One unit")
    async def detail(self, db: Db, principal: Caller, code: Code, unit: UnitCode) -> UnitOut:
        async with db.transaction(principal.context) as s:
            _require_role(principal)
            found = await access_unit(s, principal.context, code, unit)
            return UnitOut.of(found, {found.tenant_id: code})

    @patch("/{unit:str}", summary="Change a unit (send the version you read); active=false deactivates")
    async def change(
        self, db: Db, principal: Caller, code: Code, unit: UnitCode, data: JSONBody[UnitPatchIn]
    ) -> UnitOut:
        async with db.transaction(principal.context) as s:
            target = await _target(s, principal, code)
        require_admin_over(principal, target)
        async with db.transaction(TenantContext(target.path)) as s:
            changed = await do_update_unit(
                s, target, unit, data.changes(), expected_version=data.version, acting_user=principal.username
            )
            return UnitOut.of(changed, {target.id: target.code})


class ComponentController(Controller):
    path = "/tenants/{code:str}/components"
    tags = ["components"]  # noqa: RUF012

    @put(
        "/",
        summary="Import the inventory (text/csv or application/geo+json); upserts by object id",
        request_max_body_size=IMPORT_MAX_BYTES,
    )
    async def import_(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        resolver: Resolve,
        code: Code,
    ) -> ImportOut:
        async with db.transaction(principal.context) as s:
            target = await _target(s, principal, code)
        require_admin_over(principal, target)
        body = await request.body()
        media_type = request.headers.get("content-type", "")
        async with db.transaction(TenantContext(target.path)) as s:
            report = await do_import_components(
                s, resolver, target, body, media_type, acting_user=principal.username
            )
        return ImportOut.of(code, report)

    @get("/", summary="The tenant's inventory, by object id, filtered and paginated")
    async def list(
        self,
        db: Db,
        principal: Caller,
        code: Code,
        class_: Annotated[str | None, QueryParameter(name="class", pattern=r"^[0-9]{4,5}$")] = None,
        street: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{9}$")] = None,
        grid: Annotated[str | None, QueryParameter(pattern=r"^[0-9A-Z]{14,15}$")] = None,
        state_: Annotated[ComponentState | None, QueryParameter(query="state")] = None,
        page: Page = 1,
        page_size: PageSize = 100,
    ) -> ComponentListOut:
        async with db.transaction(principal.context) as s:
            target = await _target(s, principal, code)
            result = await list_components(
                s,
                target,
                class_code=class_,
                street_code=street,
                grid_code=grid,
                state=state_,
                page=page,
                page_size=page_size,
            )
            return ComponentListOut.of(result, await _codes(s, target))

    @get("/{object_id:str}", summary="One inventory object")
    async def detail(self, db: Db, principal: Caller, code: Code, object_id: ObjectId) -> ComponentOut:
        async with db.transaction(principal.context) as s:
            target = await _target(s, principal, code)
            found = await get_component(s, target, object_id)
            return ComponentOut.of(found, await _codes(s, target))

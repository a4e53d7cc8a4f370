"""``/api/v1/tenants``: the caller's visible subtree of the tenant tree, and tenant profiles."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from citylead.api.schemas import ProfileIn, ProfileOut, TenantDetailOut, TenantListOut
from citylead.db import Database
from citylead.identity.policy import require_admin_over
from citylead.identity.principal import Principal
from tenants.context import TenantContext
from tenants.models import TenantLevel, TenantStatus
from tenants.profiles import PROFILE_FIELDS, do_update_profile, get_profile
from tenants.service import access_tenant_by_code, list_tenants

__all__ = ["TenantController"]

Code = Annotated[str, PathParameter(pattern=r"^[0-9]{6}$", description="GB/T 2260 code, six digits")]
Db = NamedDependency[Database]
Caller = NamedDependency[Principal]


class TenantController(Controller):
    path = "/tenants"
    tags = ["tenants"]  # noqa: RUF012

    @get("/", summary="List the tenants you may see")
    async def list(
        self,
        db: Db,
        principal: Caller,
        level: Annotated[TenantLevel | None, QueryParameter(description="administrative level")] = None,
        status: Annotated[TenantStatus | None, QueryParameter(description="platform status")] = None,
        parent: Annotated[
            str | None, QueryParameter(pattern=r"^[0-9]{6}$", description="parent's code")
        ] = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> TenantListOut:
        async with db.transaction(principal.context) as s:
            result = await list_tenants(
                s,
                principal.context,
                level=level,
                status=status,
                parent_code=parent,
                page=page,
                page_size=page_size,
            )
        return TenantListOut.of(result)

    @get("/{code:str}", summary="One tenant, with its boundary")
    async def detail(self, db: Db, principal: Caller, code: Code) -> TenantDetailOut:
        async with db.transaction(principal.context) as s:
            row = await access_tenant_by_code(s, principal.context, code)
            await s.refresh(row.tenant, ["boundary"])
        return TenantDetailOut.of_detail(row)

    @get("/{code:str}/profile", summary="A tenant's contacts and operating modes")
    async def profile(self, db: Db, principal: Caller, code: Code) -> ProfileOut:
        async with db.transaction(principal.context) as s:
            row = await access_tenant_by_code(s, principal.context, code)
            profile = await get_profile(s, row.tenant)
        return ProfileOut.of(code, profile)

    @put("/{code:str}/profile", summary="Replace a tenant's profile (send the version you read)")
    async def update_profile(
        self, db: Db, principal: Caller, code: Code, data: JSONBody[ProfileIn]
    ) -> ProfileOut:
        async with db.transaction(principal.context) as s:
            target = (await access_tenant_by_code(s, principal.context, code)).tenant
        require_admin_over(principal, target)
        # The write happens in the target's own context: RLS lets a tenant write only its rows.
        async with db.transaction(TenantContext(target.path)) as s:
            changes = {name: getattr(data, name) for name in PROFILE_FIELDS}
            profile = await do_update_profile(
                s, target, changes, expected_version=data.version, acting_user=principal.username
            )
            return ProfileOut.of(code, profile)

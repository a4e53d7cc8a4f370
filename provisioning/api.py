"""``/api/v1``: onboard a county or a city (接入), and follow the job.

- ``POST /tenants/{city}/counties`` (city admins of that city, province admins): multipart with the
  form fields ``code``, ``template``, ``admin`` (e-mail, optional), ``dry_run`` (``true``: check and
  plan only) and the files ``grids``, ``units``, ``components``. A dry run answers 200 with the
  problems and the plan; a request with problems answers 422 listing all of them; otherwise 202
  with the job (and, once, the first administrator's one-time password).
- ``POST /tenants/{province}/cities``: the same for a city (province admins).
- ``GET /provisioning/jobs/{id}``: the job, each step's state, timings and errors.
- ``GET /provisioning/jobs?tenant=CODE``: the jobs of a tenant (newest first).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from sqlalchemy import select

from citylead.db import Database
from citylead.identity.principal import Principal, Role
from provisioning.inputs import FILE_NAMES, MAX_FILE_BYTES, InputFile, OnboardRequest
from provisioning.models import ProvisioningJob
from provisioning.pipeline import Submitted
from provisioning.service import dry_run, get_job, onboard
from tenants.errors import FieldProblem, Forbidden, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from tenants.models import Tenant
from tenants.service import access_tenant_by_code
from tenants.standards.resolver import Resolver

__all__ = ["OnboardingController", "ProvisioningJobController"]

Code = Annotated[str, PathParameter(pattern=r"^[0-9]{6}$", description="GB/T 2260 code, six digits")]
Caller = NamedDependency[Principal]
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_TYPES = {"geojson": "application/geo+json", "json": "application/json", "csv": "text/csv"}


async def _request(request: Request[Any, Any, Any], kind: str, parent: str) -> tuple[OnboardRequest, bool]:
    if not request.headers.get("content-type", "").startswith(_FORMS):
        raise UnsupportedMediaType(
            "send the onboarding request as multipart/form-data (fields and files), or as "
            "application/x-www-form-urlencoded when there are no files"
        )
    form = await request.form()
    problems: list[FieldProblem] = []

    def text(name: str, *, required: bool) -> str | None:
        value = form.get(name)
        if (
            isinstance(value, UploadFile)
            or (value is None and required)
            or (value is not None and not value.strip())
        ):
            problems.append(FieldProblem(name, "required text field" if required else "must be text", None))
            return None
        return value.strip() if isinstance(value, str) else None

    code, template = text("code", required=True), text("template", required=True)
    admin = text("admin", required=False)
    flag = form.get("dry_run")
    files: dict[str, InputFile] = {}
    for name in FILE_NAMES:
        part = form.get(name)
        if part is None:
            continue
        if not isinstance(part, UploadFile):
            problems.append(FieldProblem(name, "must be a file part"))
            continue
        data = await part.read()
        if len(data) > MAX_FILE_BYTES:
            raise PayloadTooLarge(f"{name}: at most {MAX_FILE_BYTES // 2**20} MB per file")
        media = (part.content_type or "").split(";")[0].strip().lower()
        if media in ("", "application/octet-stream"):
            media = _TYPES.get((part.filename or "").rsplit(".", 1)[-1].lower(), media)
        files[name] = InputFile(part.filename or name, media, data)
    if problems:
        raise InvalidInput("the onboarding request is incomplete", errors=problems)
    assert code is not None
    assert template is not None
    is_dry = isinstance(flag, str) and flag.strip().lower() in ("1", "true", "yes")
    if kind == "county":
        return OnboardRequest("county", code, parent, template, admin, files), is_dry
    return OnboardRequest("city", code, parent, template, admin, files), is_dry


def _allowed(principal: Principal, kind: str) -> None:
    roles = (Role.PROVINCE_ADMIN, Role.CITY_ADMIN) if kind == "county" else (Role.PROVINCE_ADMIN,)
    if not principal.has_any(*roles):
        names = " or ".join(r.value for r in roles)
        raise Forbidden(f"onboarding a {kind} needs the role {names}")


def _accepted(submitted: Submitted, view: dict[str, Any]) -> Response[dict[str, Any]]:
    body = {"job": view}
    if submitted.admin_username:
        body["first_admin"] = {
            "username": submitted.admin_username,
            "temporary_password": submitted.temporary_password,
            "note": "shown once; the administrator changes it at first sign-in",
        }
    return Response(
        body, status_code=202, headers={"Location": f"/api/v1/provisioning/jobs/{submitted.job.id}"}
    )


class OnboardingController(Controller):
    path = "/tenants"
    tags = ["onboarding"]  # noqa: RUF012

    async def _onboard(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        resolver: Resolver,
        principal: Principal,
        kind: str,
        parent: str,
    ) -> Response[dict[str, Any]]:
        async with db.transaction(principal.context) as s:
            await access_tenant_by_code(s, principal.context, parent)  # 404 outside the caller's tree
        _allowed(principal, kind)
        onboard_request, is_dry = await _request(request, kind, parent)
        if is_dry:
            checked = await dry_run(db, resolver, principal.context, onboard_request)
            body = {
                "ok": not checked.problems,
                "problems": [{"field": p.field, "rule": p.rule, "value": p.value} for p in checked.problems],
                "plan": checked.plan or None,
            }
            return Response(body, status_code=200)
        submitted = await onboard(
            db, resolver, principal.context, onboard_request, acting_user=principal.username
        )
        view = await get_job(db, principal.context, submitted.job.id)
        return _accepted(submitted, view.as_dict())

    @post(
        "/{city:str}/counties",
        summary="Onboard a county-level division of the city (接入区县)",
        status_code=202,
    )
    async def onboard_county(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        resolver: NamedDependency[Resolver],
        principal: Caller,
        city: Code,
    ) -> Response[dict[str, Any]]:
        return await self._onboard(request, db, resolver, principal, "county", city)

    @post("/{province:str}/cities", summary="Onboard a city of the province (接入地级市)", status_code=202)
    async def onboard_city(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        resolver: NamedDependency[Resolver],
        principal: Caller,
        province: Code,
    ) -> Response[dict[str, Any]]:
        return await self._onboard(request, db, resolver, principal, "city", province)


class ProvisioningJobController(Controller):
    path = "/provisioning/jobs"
    tags = ["onboarding"]  # noqa: RUF012

    @get("/{job_id:uuid}", summary="An onboarding job: each step's state, timings and errors")
    async def job(
        self, db: NamedDependency[Database], principal: Caller, job_id: uuid.UUID
    ) -> dict[str, Any]:
        return (await get_job(db, principal.context, job_id)).as_dict()

    @get("/", summary="Onboarding jobs of a tenant, newest first")
    async def jobs(
        self,
        db: NamedDependency[Database],
        principal: Caller,
        tenant: Annotated[str, QueryParameter(pattern=r"^[0-9]{6}$", description="the tenant's code")],
    ) -> list[dict[str, Any]]:
        async with db.transaction(principal.context) as s:
            row = await access_tenant_by_code(s, principal.context, tenant)
            ids = (
                await s.scalars(
                    select(ProvisioningJob.id)
                    .join(Tenant, Tenant.id == ProvisioningJob.tenant_id)
                    .where(ProvisioningJob.tenant_id == row.tenant.id)
                    .order_by(ProvisioningJob.created_at.desc())
                    .limit(50)
                )
            ).all()
        return [(await get_job(db, principal.context, i)).as_dict() for i in ids]

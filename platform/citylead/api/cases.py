"""``/api/v1/cases``: report, read, list and act on cases (the acting tenant is always the caller's).

Reports and actions may carry photos as ``multipart/form-data``: a ``report`` part with the JSON
fields and ``photos`` file parts (see :mod:`citylead.api.case_io`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from sqlalchemy import func, select

from citylead.api.case_io import attach, case_view, decode, read_body, report_of, tenant_codes
from citylead.api.cases_schemas import ActionIn, CaseIn, CaseListOut, CaseOut, CaseSummary, summary_fields
from citylead.blobs import BlobStore
from citylead.cases.access import access_case_by_id, actor_of
from citylead.cases.actions import Given, do_action
from citylead.cases.intake import do_report
from citylead.cases.models import CaseAttachment, Source
from citylead.cases.queries import LIGHTS, CaseFilter, list_cases
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.identity.principal import Principal, Role
from citylead.settings import Settings
from tenants.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.standards.resolver import Resolver

__all__ = ["CaseController"]

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Resolve = NamedDependency[Resolver]
Locate = NamedDependency[Locator]
Blobs = NamedDependency[BlobStore]
Config = NamedDependency[Settings]
CaseId = Annotated[uuid.UUID, PathParameter(description="the case's id")]

REPORTERS = (Role.SUPERVISOR, Role.INTAKE)
# Which stage an action's photos document (处置 / 核查 / 核实); other actions keep their own name.
PHOTO_STAGES = {
    "dispose": "dispose",
    "self_handle": "dispose",
    "check_pass": "check",
    "check_fail": "check",
    "verify": "verify",
    "verify_false": "verify",
}


class CaseController(Controller):
    path = "/cases"
    tags = ["cases"]  # noqa: RUF012

    @post("/", status_code=201, summary="Report a problem (监督员上报 / 受理员登记); photos as multipart")
    async def report(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        resolver: Resolve,
        locator: Locate,
        blobs: Blobs,
        settings: Config,
    ) -> CaseOut:
        if not principal.has_any(*REPORTERS):
            raise Forbidden("reporting needs the supervisor (监督员) or intake (受理员) role")
        data, photos, datas = await read_body(request, CaseIn, settings)
        if Role.SUPERVISOR in principal.roles and Role.INTAKE not in principal.roles:
            source = Source.SUPERVISOR
        else:
            source = data.source or Source.HOTLINE_12345
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            intake = await do_report(
                s,
                actor.tenant,
                report_of(data, source, data.reporter, None),
                resolver=resolver,
                locator=locator,
                acting_user=principal.username,
            )
            await attach(s, blobs, intake.case, "report", photos, datas, principal.username)
            await s.flush()
            return await case_view(s, intake.case, actor)

    @get("/", summary="Cases in your reach, filtered and paginated")
    async def list(
        self,
        db: Db,
        principal: Caller,
        state_: Annotated[str | None, QueryParameter(query="state", description="a workflow state")] = None,
        light: Annotated[str | None, QueryParameter(description="green, yellow, red or paused")] = None,
        kind: str | None = None,
        code: str | None = None,
        grid: str | None = None,
        street: str | None = None,
        unit: Annotated[str | None, QueryParameter(description="TENANT/UNIT, e.g. 320411/T320411001")] = None,
        source: str | None = None,
        county: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> CaseListOut:
        if light is not None and light not in LIGHTS:
            raise InvalidInput(
                "unknown light", errors=[FieldProblem("light", f"one of {', '.join(LIGHTS)}", light)]
            )
        unit_ref = None
        if unit is not None:
            tenant_code, sep, unit_code = unit.partition("/")
            if not sep:
                raise InvalidInput("unit is TENANT/UNIT", errors=[FieldProblem("unit", "TENANT/UNIT", unit)])
            unit_ref = (tenant_code, unit_code)
        f = CaseFilter(
            state=state_,
            light=light,
            kind=kind,
            code=code,
            grid=grid,
            street=street,
            unit=unit_ref,
            source=source,
            county=county,
            since=since,
            until=until,
        )
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            now = await s.scalar(select(func.now()))
            assert now is not None
            found = await list_cases(s, actor, f, now=now, page=page, page_size=page_size)
            codes = await tenant_codes(s, found.items)
            return CaseListOut(
                items=[CaseSummary(**summary_fields(c, codes)) for c in found.items],
                total=found.total,
                page=found.page,
                page_size=found.page_size,
            )

    @get("/{case_id:uuid}", summary="A case: state, place, unit and why, deadlines and light, history")
    async def read(self, db: Db, principal: Caller, resolver: Resolve, case_id: CaseId) -> Response[CaseOut]:
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            case = await access_case_by_id(s, actor, case_id)
            out = await case_view(s, case, actor)
        return Response(out, headers={"ETag": f'"{out.version}"'})

    @post(
        "/{case_id:uuid}/actions/{action:str}",
        status_code=200,
        summary="Take an action (If-Match or version)",
    )
    async def act(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        resolver: Resolve,
        blobs: Blobs,
        settings: Config,
        case_id: CaseId,
        action: Annotated[str, PathParameter(description="an action of the workflow, e.g. dispatch")],
    ) -> Response[CaseOut]:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data, photos, datas = await read_body(request, ActionIn, settings)
        else:
            data, photos, datas = (decode(raw, ActionIn) if raw.strip() else ActionIn()), [], []
        version = data.version
        if (match := request.headers.get("if-match")) is not None:
            try:
                version = int(match.strip().strip("W/").strip('"'))
            except ValueError:
                raise InvalidInput(
                    "If-Match must be the case's ETag",
                    errors=[FieldProblem("If-Match", 'an ETag such as "3"', match)],
                ) from None
        given = Given(
            reason=data.reason,
            unit=(data.unit.tenant, data.unit.code) if data.unit else None,
            duration=data.duration,
            granted=data.granted,
            feedback=data.feedback,
            closing_type=data.closing_type,
            expected_version=version,
        )
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            case = await access_case_by_id(s, actor, case_id)
            await do_action(s, case, action, given, actor=actor, resolver=resolver)
            if photos:
                stage = PHOTO_STAGES.get(action, action)
                await attach(s, blobs, case, stage, photos, datas, principal.username)
            await s.flush()
            out = await case_view(s, case, actor)
        return Response(out, headers={"ETag": f'"{out.version}"'})

    @get(
        "/{case_id:uuid}/photos/{photo_id:uuid}",
        summary="A photo of the case",
        media_type="application/octet-stream",
    )
    async def photo(
        self, db: Db, principal: Caller, blobs: Blobs, case_id: CaseId, photo_id: uuid.UUID
    ) -> Response[bytes]:
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            case = await access_case_by_id(s, actor, case_id)
            row = await s.scalar(
                select(CaseAttachment).where(
                    CaseAttachment.tenant_id == case.tenant_id,
                    CaseAttachment.case_id == case.id,
                    CaseAttachment.id == photo_id,
                )
            )
            if row is None:
                raise NotFound(f"no photo {photo_id}")
        data = await blobs.get(row.key)
        return Response(
            data, media_type=row.content_type, headers={"Cache-Control": "private, max-age=86400"}
        )

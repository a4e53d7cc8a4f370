"""``/api/v1/cases``: report, read, list and act on cases; ``/api/v1/intake/hotline`` for hotlines.

The acting tenant is always the caller's own (a county's staff act in their county; a city's
command centre in the city; a department in its unit's tenant). Reports may carry photos as
``multipart/form-data``: a ``report`` part with the JSON fields and ``photos`` file parts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.api.cases_schemas import (
    ActionIn,
    CaseIn,
    CaseListOut,
    CaseOut,
    CaseSummary,
    HotlineIn,
    case_out,
    summary_fields,
)
from citylead.blobs import BlobStore, Photo, check_photo, photo_key
from citylead.cases.access import Actor, access_case_by_id, actor_of
from citylead.cases.actions import Given, do_action
from citylead.cases.deadlines import clock_of
from citylead.cases.events import history
from citylead.cases.intake import Report, do_report
from citylead.cases.models import Case, CaseAttachment, Source
from citylead.cases.queries import LIGHTS, CaseFilter, list_cases
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.identity.principal import Principal, Role
from citylead.settings import Settings
from tenants.context import TenantContext
from tenants.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.standards.resolver import Resolver

__all__ = ["CaseController", "HotlineController"]

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Resolve = NamedDependency[Resolver]
Locate = NamedDependency[Locator]
Blobs = NamedDependency[BlobStore]
Config = NamedDependency[Settings]
CaseId = Annotated[uuid.UUID, PathParameter(description="the case's id")]
T = TypeVar("T")

REPORTERS = (Role.SUPERVISOR, Role.INTAKE)
HOTLINE_SOURCES = {"12345": Source.HOTLINE_12345, "12319": Source.HOTLINE_12319, "110": Source.HOTLINE_110}


def _decode(raw: bytes | str, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        path = str(exc).rsplit(" - at `", 1)
        field = path[1].rstrip("`").removeprefix("$.") if len(path) == 2 else "body"
        raise InvalidInput(str(exc), errors=[FieldProblem(field, path[0])]) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(
            f"the body is not valid JSON: {exc}", errors=[FieldProblem("body", "valid JSON")]
        ) from None


async def _body(
    request: Request[Any, Any, Any], type_: type[T], settings: Settings
) -> tuple[T, list[Photo], list[bytes]]:
    """The JSON fields and the checked photos (413/415 before anything is written)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return _decode(await request.body(), type_), [], []
    form = await request.form()
    raw = form.get("report") or form.get("data")
    if raw is None:
        raise InvalidInput(
            "a multipart report needs a `report` part with the JSON fields",
            errors=[FieldProblem("report", "required")],
        )
    if isinstance(raw, UploadFile):
        raw = await raw.read()
    fields = _decode(raw, type_)
    files = [f for f in form.getall("photos") if isinstance(f, UploadFile)] if "photos" in form else []
    if len(files) > settings.blobs.photos_per_report:
        raise InvalidInput(
            "too many photos",
            errors=[FieldProblem("photos", f"at most {settings.blobs.photos_per_report} photos", len(files))],
        )
    photos, datas = [], []
    for f in files:
        data = await f.read()
        photos.append(check_photo(data, f.content_type, max_bytes=settings.blobs.photo_max_bytes))
        datas.append(data)
    return fields, photos, datas


async def _attach(
    s: AsyncSession,
    blobs: BlobStore,
    case: Case,
    stage: str,
    photos: list[Photo],
    datas: list[bytes],
    by: str,
) -> None:
    for photo, data in zip(photos, datas, strict=True):
        key = photo_key(case.tenant_id, case.id, photo)
        await blobs.put(key, data, photo.content_type)
        s.add(
            CaseAttachment(
                tenant_id=case.tenant_id,
                case_id=case.id,
                stage=stage,
                key=key,
                content_type=photo.content_type,
                size=photo.size,
                sha256=photo.sha256,
                width=photo.width,
                height=photo.height,
                uploaded_by=by,
            )
        )


async def _codes(s: AsyncSession, cases: list[Case]) -> dict[uuid.UUID, str]:
    ids = {i for c in cases for i in (c.tenant_id, c.command_tenant_id, c.unit_tenant_id) if i is not None}
    for c in cases:
        if c.suggestion.get("unit_tenant_id"):
            ids.add(uuid.UUID(c.suggestion["unit_tenant_id"]))
    rows = await s.execute(select(Tenant.id, Tenant.code).where(Tenant.id.in_(ids)))
    return dict(rows.all())  # tenants outside the reader's view stay unnamed


async def _out(s: AsyncSession, case: Case, actor: Actor) -> CaseOut:
    now = await s.scalar(select(func.now()))
    assert now is not None
    photos = await s.scalars(
        select(CaseAttachment)
        .where(CaseAttachment.tenant_id == case.tenant_id, CaseAttachment.case_id == case.id)
        .order_by(CaseAttachment.uploaded_at)
    )
    return case_out(
        case,
        await _codes(s, [case]),
        actor=actor,
        clock=clock_of(case, now),
        events=await history(s, case),
        photos=list(photos),
    )


def _report(
    data: CaseIn | HotlineIn, source: Source, reporter: dict[str, str] | None, external: str | None
) -> Report:
    return Report(
        kind=data.kind,
        code=data.code,
        lon=data.lon,
        lat=data.lat,
        description=data.description,
        urgency=data.urgency,
        source=source,
        address=data.address,
        reporter=reporter or {},
        component_id=getattr(data, "component_id", None),
        external_id=external,
    )


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
        data, photos, datas = await _body(request, CaseIn, settings)
        if Role.SUPERVISOR in principal.roles and Role.INTAKE not in principal.roles:
            source = Source.SUPERVISOR
        else:
            source = data.source or Source.HOTLINE_12345
        async with db.transaction(principal.context) as s:
            actor = await actor_of(s, principal)
            intake = await do_report(
                s,
                actor.tenant,
                _report(data, source, data.reporter, None),
                resolver=resolver,
                locator=locator,
                acting_user=principal.username,
            )
            await _attach(s, blobs, intake.case, "report", photos, datas, principal.username)
            await s.flush()
            return await _out(s, intake.case, actor)

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
            codes = await _codes(s, found.items)
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
            out = await _out(s, case, actor)
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
            data, photos, datas = await _body(request, ActionIn, settings)
        else:
            data, photos, datas = (_decode(raw, ActionIn) if raw.strip() else ActionIn()), [], []
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
            stage = {
                "dispose": "dispose",
                "self_handle": "dispose",
                "check_pass": "check",
                "check_fail": "check",
                "verify": "verify",
            }
            if photos:
                await _attach(s, blobs, case, stage.get(action, action), photos, datas, principal.username)
            await s.flush()
            out = await _out(s, case, actor)
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
        data = _decode(await request.body(), HotlineIn)
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
                _report(data, HOTLINE_SOURCES[data.hotline], data.caller, data.ticket),
                resolver=resolver,
                locator=locator,
                acting_user=principal.username,
                idempotency=(principal.subject or principal.username, key),
            )
            actor = Actor(principal.username, principal.roles, county)
            out = await _out(s, intake.case, actor)
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

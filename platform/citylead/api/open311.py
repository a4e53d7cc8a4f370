"""Open311 GeoReport v2 at ``/open311/v2`` (public, no token) and its API keys under ``/api/v1``.

The public router answers in the spec's formats only, errors included: ``/services.json`` →
``[{"code": 404, "description": "..."}]``, ``/services.xml`` → ``<errors><error>…``. Every call
names its county with ``jurisdiction_id`` and runs in that county's tenant context (see
:mod:`citylead.open311.services` for why finding the county without a token is safe).

Keys are managed by the county's administrators and those above them:
``/api/v1/tenants/{code}/open311/clients`` (POST issues a key, shown once; GET lists; DELETE revokes).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy import func, select

from citylead.cases.intake import do_report
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.identity.policy import require_admin_over
from citylead.identity.principal import Principal
from citylead.open311.errors import open311_errors
from citylead.open311.formats import (
    Document,
    Format,
    render,
    request_created,
    service,
    service_definition,
    service_request,
)
from citylead.open311.forms import parse_form_body
from citylead.open311.keys import (
    Open311Client,
    do_create_client,
    do_revoke_client,
    list_clients,
    verify_api_key,
)
from citylead.open311.requests import find_requests, report_of, view_of
from citylead.open311.services import find_service, in_jurisdiction, services_of_county
from tenants.context import TenantContext
from tenants.errors import CityleadError, FieldProblem, InvalidInput, NotFound
from tenants.models import Tenant
from tenants.service import access_tenant_by_code
from tenants.standards.resolver import Resolver

__all__ = ["Open311ClientController", "open311_response", "open311_router", "requested_format"]

log = logging.getLogger("citylead.open311")

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Resolve = NamedDependency[Resolver]
Locate = NamedDependency[Locator]
Code = Annotated[str, PathParameter(pattern=r"^[0-9]{6}$", description="GB/T 2260 code, six digits")]
JurisdictionId = Annotated[
    str | None,
    QueryParameter(description="the county's GB/T 2260 code (six digits), e.g. 320411"),
]


def requested_format(path: str) -> Format:
    """``….json`` → json; anything else → xml, the format the spec requires every server to speak."""
    return "json" if path.endswith(".json") else "xml"


def open311_response(document: Document, payload: Any, fmt: Format, status: int = 200) -> Response[bytes]:
    body, media_type = render(document, payload, fmt)
    if media_type.startswith("text/"):  # Litestar adds "; charset=utf-8" to text types itself
        media_type = media_type.split(";", 1)[0]
    return Response(body, status_code=status, media_type=media_type)


def _split(filename: str) -> tuple[str, Format]:
    """``component-01001.json`` → (``component-01001``, json); NotFound for another extension."""
    stem, dot, ext = filename.rpartition(".")
    if not dot or ext not in ("json", "xml"):
        raise NotFound(f"{filename}: add .json or .xml to the resource")
    return stem, "json" if ext == "json" else "xml"


@get(["/services.json", "/services.xml"], summary="GET Service List: the county's service types")
async def services(
    request: Request[Any, Any, Any], db: Db, resolver: Resolve, jurisdiction_id: JurisdictionId = None
) -> Response[bytes]:
    fmt = requested_format(request.url.path)
    async with in_jurisdiction(db, jurisdiction_id) as j:
        views = await services_of_county(j.session, resolver, j.county)
    return open311_response(Document.SERVICES, [service(v) for v in views], fmt)


@get("/services/{filename:str}", summary="GET Service Definition (metadata=false: no attributes)")
async def definition(
    db: Db,
    resolver: Resolve,
    filename: Annotated[str, PathParameter(description="service_code plus .json or .xml")],
    jurisdiction_id: JurisdictionId = None,
) -> Response[bytes]:
    service_code, fmt = _split(filename)
    async with in_jurisdiction(db, jurisdiction_id) as j:
        views = await services_of_county(j.session, resolver, j.county)
    found = find_service(views, service_code)
    return open311_response(Document.SERVICE_DEFINITION, service_definition(found.service_code), fmt)


def _datetime(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            f"{field} must be a W3C datetime with an offset",
            errors=[FieldProblem(field, "W3C datetime", value)],
        )
    return moment


@post(["/requests.json", "/requests.xml"], status_code=201, summary="POST Service Request: a public report")
async def create_request(
    request: Request[Any, Any, Any], db: Db, resolver: Resolve, locator: Locate
) -> Response[bytes]:
    fmt = requested_format(request.url.path)
    form = parse_form_body(await request.body())
    async with in_jurisdiction(db, form.jurisdiction_id) as j:
        client = await verify_api_key(j.session, j.county, form.api_key)
        intake = await do_report(
            j.session,
            j.county,
            report_of(form),
            resolver=resolver,
            locator=locator,
            acting_user=f"open311:{client.name}",
        )
        case = intake.case
        notice = f"已受理，案卷号 {case.number}" + ("（与附近同类问题合并）" if intake.joined else "")
    item = request_created(case.number, notice, form.account_id)
    return open311_response(Document.SERVICE_REQUESTS, [item], fmt, 201)


@get(["/requests.json", "/requests.xml"], summary="GET Service Requests: the county's public requests")
async def list_requests(
    request: Request[Any, Any, Any],
    db: Db,
    jurisdiction_id: JurisdictionId = None,
    service_request_id: Annotated[str | None, QueryParameter(description="ids, comma separated")] = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response[bytes]:
    fmt = requested_format(request.url.path)
    if status is not None and status not in ("open", "closed"):
        raise InvalidInput(
            "status is open or closed", errors=[FieldProblem("status", "open or closed", status)]
        )
    start, end = _datetime(start_date, "start_date"), _datetime(end_date, "end_date")
    async with in_jurisdiction(db, jurisdiction_id) as j:
        now = await j.session.scalar(select(func.now()))
        assert now is not None
        cases = await find_requests(
            j.session,
            j.county,
            ids=[i.strip() for i in service_request_id.split(",") if i.strip()]
            if service_request_id
            else None,
            service_code=service_code,
            start=start,
            end=end,
            status=status,
            now=now,
        )
        views = [service_request(view_of(c)) for c in cases]
    return open311_response(Document.SERVICE_REQUESTS, views, fmt)


@get("/requests/{filename:str}", summary="GET Service Request: one request by its id")
async def one_request(
    db: Db,
    filename: Annotated[str, PathParameter(description="service_request_id plus .json or .xml")],
    jurisdiction_id: JurisdictionId = None,
) -> Response[bytes]:
    request_id, fmt = _split(filename)
    async with in_jurisdiction(db, jurisdiction_id) as j:
        found = await find_requests(j.session, j.county, ids=[request_id], now=datetime.now(UTC))
        if not found:
            raise NotFound(f"no service request {request_id} in {j.county.code}")
        view = service_request(view_of(found[0]))
    return open311_response(Document.SERVICE_REQUESTS, [view], fmt)


def _error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    fmt = requested_format(request.url.path)
    if isinstance(exc, CityleadError):
        status, errors = open311_errors(exc)
        if status >= 500:
            log.error("open311 error on %s %s: %s", request.method, request.url.path, exc.detail)
    elif isinstance(exc, ValidationException):
        status, errors = open311_errors(InvalidInput(str(exc.detail)))
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status = exc.status_code if exc.status_code in (403, 404, 405, 413, 415) else 400
        errors = [{"code": status, "description": str(exc.detail)}]
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status, errors = 500, [{"code": 500, "description": "an internal error occurred"}]
    return open311_response(Document.ERRORS, errors, fmt, status)


def open311_router() -> Router:
    """The public Open311 router: no bearer authentication, errors in the Open311 format."""
    return Router(
        path="/open311/v2",
        route_handlers=[services, definition, create_request, list_requests, one_request],
        # Every class the app maps to problem+json, so the closest handler (this router's) wins.
        exception_handlers={
            CityleadError: _error,
            ValidationException: _error,
            HTTPException: _error,
            Exception: _error,
        },
        tags=["open311"],
    )


# --- API keys (/api/v1) ---------------------------------------------------------------------------


class ClientIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="the application's name")]


class ClientOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    tenant_code: str
    name: str
    prefix: str  # the key's first characters, to tell keys apart
    created_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, code: str, c: Open311Client) -> ClientOut:
        return cls(
            id=c.id,
            tenant_code=code,
            name=c.name,
            prefix=c.prefix,
            created_at=c.created_at,
            revoked_at=c.revoked_at,
            active=c.active,
        )


class ClientCreatedOut(ClientOut, kw_only=True):
    api_key: str  # shown this once; only its hash is kept


class ClientListOut(msgspec.Struct, kw_only=True):
    items: list[ClientOut]


class Open311ClientController(Controller):
    path = "/tenants/{code:str}/open311/clients"
    tags = ["open311"]  # noqa: RUF012

    @post("/", status_code=201, summary="Issue an API key for a client application (shown once)")
    async def create(
        self, db: Db, principal: Caller, code: Code, data: JSONBody[ClientIn]
    ) -> Response[ClientCreatedOut]:
        target = await _administered(db, principal, code)
        async with db.transaction(TenantContext(target.path)) as s:  # written in the county's own rows
            client, key = await do_create_client(s, target, data.name, acting_user=principal.username)
            out = ClientCreatedOut(**msgspec.structs.asdict(ClientOut.of(code, client)), api_key=key)
        return Response(out, status_code=201, headers={"Cache-Control": "no-store"})

    @get("/", summary="The county's client applications (never their keys)")
    async def list(self, db: Db, principal: Caller, code: Code) -> ClientListOut:
        target = await _administered(db, principal, code)
        async with db.transaction(principal.context) as s:
            rows = await list_clients(s, target)
        return ClientListOut(items=[ClientOut.of(code, c) for c in rows])

    @delete("/{client_id:uuid}", status_code=204, summary="Revoke a client's key at once")
    async def revoke(self, db: Db, principal: Caller, code: Code, client_id: uuid.UUID) -> None:
        target = await _administered(db, principal, code)
        async with db.transaction(TenantContext(target.path)) as s:
            await do_revoke_client(s, target, client_id, acting_user=principal.username)


async def _administered(db: Database, principal: Principal, code: str) -> Tenant:
    """A tenant in the caller's subtree (else 404) that the caller administers (else 403)."""
    async with db.transaction(principal.context) as s:
        target = (await access_tenant_by_code(s, principal.context, code)).tenant
    require_admin_over(principal, target)
    return target

"""Open311 service requests (公众诉求) are cases: a POST is intake, a GET reads cases as the spec's
``request`` documents. ``service_request_id`` is the case number (``320411-20261122-0000123``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.intake import Report
from citylead.cases.models import Case, Source
from citylead.cases.workflow import State
from citylead.open311.formats import RequestView
from citylead.open311.forms import RequestForm
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant

__all__ = ["MAX_RESULTS", "find_requests", "report_of", "view_of"]

MAX_RESULTS = 1000  # the spec: a server may limit a list to 1000 requests
DEFAULT_DAYS = 90  # the spec: without dates, the last 90 days


def report_of(form: RequestForm) -> Report:
    """The case a POST asks for; coordinates are required (addresses are not geocoded here)."""
    if form.lat is None or form.long is None:
        raise InvalidInput(
            "lat and long are required: this jurisdiction places requests by coordinates",
            errors=[FieldProblem("lat", "required (WGS84); address_string alone is not geocoded")],
        )
    name = " ".join(p for p in (form.last_name, form.first_name) if p)
    reporter = {
        k: v
        for k, v in (
            ("name", name),
            ("email", form.email),
            ("phone", form.phone),
            ("device_id", form.device_id),
            ("account_id", form.account_id),
            ("media_url", form.media_url),
        )
        if v
    }
    return Report(
        kind=form.kind,
        code=form.code,
        lon=form.long,
        lat=form.lat,
        description=(form.description or "").strip() or "（公众未填写描述）",
        source=Source.OPEN311,
        address=form.address_string,
        reporter=reporter,
    )


def view_of(case: Case) -> RequestView:
    state = State(case.state)
    notes = state.label
    if case.closing_type:
        notes += f"（{case.closing_type}）"
    return RequestView(
        service_request_id=case.number,
        status="closed" if state.final else "open",
        status_notes=notes,
        service_name=case.class_name,
        service_code=f"{case.kind}-{case.class_code}",
        description=case.description,
        agency_responsible=case.unit_name,
        service_notice=None,
        requested_datetime=case.reported_at,
        updated_datetime=case.updated_at,
        expected_datetime=case.due_at if case.step == "dispose" else None,
        address=case.address,
        address_id=None,
        zipcode=None,
        lat=case.lat,
        long=case.lon,
        media_url=case.reporter.get("media_url"),
    )


async def find_requests(
    session: AsyncSession,
    county: Tenant,
    *,
    ids: list[str] | None = None,
    service_code: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    now: datetime,
) -> list[Case]:
    """GET Service Requests: by ids (then every other filter is ignored, as the spec says), or by
    service, dates (default the last 90 days) and status, newest first, at most 1000."""
    query = select(Case).where(Case.tenant_id == county.id)
    if ids:
        query = query.where(Case.number.in_(ids[:MAX_RESULTS]))
    else:
        if service_code:
            pairs = [tuple(c.strip().split("-", 1)) for c in service_code.split(",") if "-" in c]
            query = query.where(tuple_(Case.kind, Case.class_code).in_(pairs))
        end = end or now
        start = start or end - timedelta(days=DEFAULT_DAYS)
        query = query.where(Case.reported_at >= start, Case.reported_at <= end)
        finals = [s.value for s in State if s.final]
        if status == "open":
            query = query.where(Case.state.not_in(finals))
        elif status == "closed":
            query = query.where(Case.state.in_(finals))
    rows = await session.scalars(query.order_by(Case.reported_at.desc()).limit(MAX_RESULTS))
    return list(rows)

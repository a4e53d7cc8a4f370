"""Reading case requests and building case responses, shared by the case and intake endpoints:
JSON or multipart bodies (photos checked before anything is written), photo storage, the view."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.api.cases_schemas import CaseIn, CaseOut, HotlineIn, case_out
from citylead.blobs import BlobStore, Photo, check_photo, photo_key
from citylead.cases.access import Actor
from citylead.cases.deadlines import clock_of
from citylead.cases.events import history
from citylead.cases.intake import Report
from citylead.cases.models import Case, CaseAttachment, Source
from citylead.settings import Settings
from tenants.errors import FieldProblem, InvalidInput
from tenants.models import Tenant

__all__ = ["attach", "case_view", "decode", "read_body", "report_of", "tenant_codes"]

T = TypeVar("T")


def decode(raw: bytes | str, type_: type[T]) -> T:
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


async def read_body(
    request: Request[Any, Any, Any], type_: type[T], settings: Settings
) -> tuple[T, list[Photo], list[bytes]]:
    """The JSON fields and the checked photos (413/415 before anything is written)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return decode(await request.body(), type_), [], []
    form = await request.form()
    raw = form.get("report") or form.get("data")
    if raw is None:
        raise InvalidInput(
            "a multipart report needs a `report` part with the JSON fields",
            errors=[FieldProblem("report", "required")],
        )
    if isinstance(raw, UploadFile):
        raw = await raw.read()
    fields = decode(raw, type_)
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


async def attach(
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


async def tenant_codes(s: AsyncSession, cases: list[Case]) -> dict[uuid.UUID, str]:
    ids = {i for c in cases for i in (c.tenant_id, c.command_tenant_id, c.unit_tenant_id) if i is not None}
    for c in cases:
        if c.suggestion.get("unit_tenant_id"):
            ids.add(uuid.UUID(c.suggestion["unit_tenant_id"]))
    rows = await s.execute(select(Tenant.id, Tenant.code).where(Tenant.id.in_(ids)))
    return dict(rows.all())  # tenants outside the reader's view stay unnamed


async def case_view(s: AsyncSession, case: Case, actor: Actor) -> CaseOut:
    now = await s.scalar(select(func.now()))
    assert now is not None
    photos = await s.scalars(
        select(CaseAttachment)
        .where(CaseAttachment.tenant_id == case.tenant_id, CaseAttachment.case_id == case.id)
        .order_by(CaseAttachment.uploaded_at)
    )
    return case_out(
        case,
        await tenant_codes(s, [case]),
        actor=actor,
        clock=clock_of(case, now),
        events=await history(s, case),
        photos=list(photos),
    )


def report_of(
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

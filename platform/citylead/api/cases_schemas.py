"""Request and response shapes of ``/api/v1/cases`` and ``/api/v1/intake``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from citylead.cases.access import Actor
from citylead.cases.deadlines import FAR, Clock
from citylead.cases.models import Case, CaseAttachment, CaseEvent, Source
from citylead.cases.workflow import ACTIONS, State, allowed_actions

__all__ = ["ActionIn", "CaseIn", "CaseListOut", "CaseOut", "HotlineIn", "UnitRef"]

Lon = Annotated[float, msgspec.Meta(ge=-180, le=180, description="WGS84 longitude")]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90, description="WGS84 latitude")]
Text2000 = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class CaseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A report by a supervisor (监督员上报) or a call registered by an intake operator (受理员)."""

    kind: str = msgspec.field(name="kind")
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4,5}(-[0-9]{2})?$")]
    lon: Lon
    lat: Lat
    description: Text2000
    urgency: str = "normal"
    source: Source | None = None
    address: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    component_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{16,17}$")] | None = None
    reporter: dict[str, str] | None = None


class HotlineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A call forwarded by a hotline system (12345 / 12319 / 110)."""

    hotline: Annotated[str, msgspec.Meta(pattern=r"^(12345|12319|110)$")]
    kind: str
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4,5}(-[0-9]{2})?$")]
    lon: Lon
    lat: Lat
    description: Text2000
    urgency: str = "normal"
    address: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    ticket: Annotated[str, msgspec.Meta(max_length=64)] | None = None  # the hotline's own ticket number
    caller: dict[str, str] | None = None
    county: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None


class UnitRef(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    tenant: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
    code: str


class ActionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: str | None = None
    unit: UnitRef | None = None
    duration: str | None = None
    granted: str | None = None
    feedback: str | None = None
    closing_type: str | None = None
    version: int | None = None


class EventOut(msgspec.Struct, kw_only=True):
    seq: int
    at: datetime
    actor: str
    actor_role: str | None
    actor_tenant: str | None
    action: str
    action_label: str
    from_state: str | None
    to_state: str
    reason: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, e: CaseEvent) -> EventOut:
        label = (
            ACTIONS[e.action].label
            if e.action in ACTIONS
            else {"report": "上报", "duplicate": "重复上报"}.get(e.action, e.action)
        )
        return cls(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            actor_role=e.actor_role,
            actor_tenant=e.actor_tenant,
            action=e.action,
            action_label=label,
            from_state=e.from_state,
            to_state=e.to_state,
            reason=e.reason,
            data=e.data,
        )


class PhotoOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    stage: str
    content_type: str
    size: int
    width: int
    height: int
    url: str


class ClockOut(msgspec.Struct, kw_only=True):
    step: str
    started_at: datetime
    limit: str
    due_at: datetime | None
    light: str
    light_label: str
    running: bool
    paused: list[list[datetime | None]]  # an open pause (parked) ends with null
    stages: list[dict[str, Any]]

    @classmethod
    def of(cls, c: Clock) -> ClockOut:
        return cls(
            step=c.step,
            started_at=c.started_at,
            limit=c.limit,
            due_at=c.due_at,
            light=c.light.value,
            light_label=c.light.label,
            running=c.running,
            paused=[[a, None if b == FAR else b] for a, b in c.paused],
            stages=[{"name": name, "due_at": due} for name, due in c.stages],
        )


class CaseSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    number: str
    state: str
    state_label: str
    kind: str
    class_code: str
    class_name: str
    urgency: str
    source: str
    county: str
    grid_code: str | None
    street_code: str | None
    unit: dict[str, str | None] | None
    due_at: datetime | None
    overdue: bool
    reported_at: datetime
    version: int


class CaseOut(CaseSummary, kw_only=True):
    description: str
    address: str | None
    location: dict[str, float]
    community_code: str | None
    component_id: str | None
    reporter: dict[str, Any]
    external_id: str | None
    command: str
    routing: dict[str, Any]
    clock: ClockOut | None
    limits: dict[str, Any]
    standards: dict[str, str]
    counters: dict[str, int]
    closing_type: str | None
    times: dict[str, datetime | None]
    allowed_actions: list[str]
    your_actions: list[str]
    photos: list[PhotoOut]
    history: list[EventOut]


class CaseListOut(msgspec.Struct, kw_only=True):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


def summary_fields(case: Case, codes: dict[uuid.UUID, str]) -> dict[str, Any]:
    state = State(case.state)
    unit = (
        {"tenant": codes.get(case.unit_tenant_id), "code": case.unit_code, "name": case.unit_name}
        if case.unit_tenant_id is not None
        else None
    )
    return {
        "id": case.id,
        "number": case.number,
        "state": state.value,
        "state_label": state.label,
        "kind": case.kind,
        "class_code": case.class_code,
        "class_name": case.class_name,
        "urgency": case.urgency,
        "source": case.source,
        "county": codes.get(case.tenant_id, case.number[:6]),
        "grid_code": case.grid_code,
        "street_code": case.street_code,
        "unit": unit,
        "due_at": case.due_at,
        "overdue": case.overdue,
        "reported_at": case.reported_at,
        "version": case.version,
    }


def case_out(
    case: Case,
    codes: dict[uuid.UUID, str],
    *,
    actor: Actor,
    clock: Clock | None,
    events: list[CaseEvent],
    photos: list[CaseAttachment],
) -> CaseOut:
    allowed = allowed_actions(State(case.state))
    suggestion = dict(case.suggestion)
    if suggestion.get("unit_tenant_id"):
        suggestion["unit_tenant"] = codes.get(uuid.UUID(suggestion["unit_tenant_id"]))
    return CaseOut(
        **summary_fields(case, codes),
        description=case.description,
        address=case.address,
        location={"lon": case.lon, "lat": case.lat},
        community_code=case.community_code,
        component_id=case.component_id,
        reporter=case.reporter,
        external_id=case.external_id,
        command=codes.get(case.command_tenant_id, ""),
        routing=suggestion,
        clock=ClockOut.of(clock) if clock else None,
        limits=case.limits,
        standards=case.standards,
        counters={
            "rework": case.rework_count,
            "return": case.return_count,
            "postpone": case.postpone_count,
            "duplicate": case.duplicate_count,
        },
        closing_type=case.closing_type,
        times={
            "reported_at": case.reported_at,
            "filed_at": case.filed_at,
            "dispatched_at": case.dispatched_at,
            "disposed_at": case.disposed_at,
            "closed_at": case.closed_at,
            "updated_at": case.updated_at,
        },
        allowed_actions=allowed,
        your_actions=[a for a in allowed if actor.roles.intersection(ACTIONS[a].roles)],
        photos=[
            PhotoOut(
                id=p.id,
                stage=p.stage,
                content_type=p.content_type,
                size=p.size,
                width=p.width,
                height=p.height,
                url=f"/api/v1/cases/{case.id}/photos/{p.id}",
            )
            for p in photos
        ],
        history=[EventOut.of(e) for e in events],
    )

"""Hotline intake with idempotency keys, photos, component routing, and cross-level work: a county
escalates to its city (疑难上报), the city dispatches to a city department or to another county's
unit, and each assignee sees exactly what is assigned to it."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image
from sqlalchemy import func, select

from citylead.cases.models import Case
from citylead.db import Database
from tenants.models import Tenant
from tests.integration.cases.conftest import Api, Spot

A, B, CITY = "320612", "320613", "320600"


def hotline_body(spot: Spot, **extra: Any) -> dict[str, Any]:
    body = {
        "hotline": "12345",
        "kind": "matter",
        "code": "06011",
        "lon": spot.lon,
        "lat": spot.lat,
        "description": "市民来电：小区门口垃圾堆放",
        "ticket": "GD-2026-0001",
        "caller": {"name": "李先生", "phone": "13800000000"},
    }
    body.update(extra)
    return body


async def test_ten_concurrent_retries_with_one_key_make_one_case(
    api: Api,
    client: AsyncTestClient[Litestar],
    owner_db: Database,
    registry: dict[str, Tenant],
    case_world: dict[str, list[Spot]],
) -> None:
    spot = case_world[A][20]
    key = f"call-{uuid.uuid4()}"
    headers = {**api.staff("intake", CITY), "Idempotency-Key": key}  # a city-level 12345 system
    responses = await asyncio.gather(
        *(client.post("/api/v1/intake/hotline", json=hotline_body(spot), headers=headers) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    created = next(r for r in responses if r.status_code == 201).json()
    assert created["county"] == A and created["state"] == "reported" and created["source"] == "hotline_12345"
    assert created["external_id"] == "GD-2026-0001" and created["reporter"]["name"] == "李先生"
    assert {r.headers["Idempotency-Replayed"] for r in responses if r.status_code == 200} == {"true"}
    async with owner_db.transaction(None) as s:
        count = await s.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.external_id == "GD-2026-0001", Case.tenant_id == registry[A].id)
        )
    assert count == 1

    changed = await client.post(
        "/api/v1/intake/hotline", json=hotline_body(spot, description="另一件事"), headers=headers
    )
    assert changed.status_code == 409
    missing = await client.post(
        "/api/v1/intake/hotline", json=hotline_body(spot), headers=api.staff("intake", CITY)
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "Idempotency-Key"
    outside = await client.post(
        "/api/v1/intake/hotline",
        json=hotline_body(case_world["321002"][0]),
        headers={**api.staff("intake", CITY), "Idempotency-Key": "k-outside"},
    )
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "location"


def _jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def test_photos_are_stored_checked_and_scoped(
    api: Api, client: AsyncTestClient[Litestar], case_world: dict[str, list[Spot]]
) -> None:
    import json

    spot = case_world[A][21]
    report = json.dumps(
        {"kind": "matter", "code": "06011", "lon": spot.lon, "lat": spot.lat, "description": "垃圾"}
    )
    r = await client.post(
        "/api/v1/cases",
        files=[("report", (None, report, "application/json")), ("photos", ("a.jpg", _jpeg(), "image/jpeg"))],
        headers=api.staff("supervisor", A),
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert [(p["stage"], p["content_type"], p["width"]) for p in case["photos"]] == [
        ("report", "image/jpeg", 64)
    ]
    got = await client.get(case["photos"][0]["url"], headers=api.staff("shift_lead", A))
    assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"
    assert (await client.get(case["photos"][0]["url"], headers=api.staff("shift_lead", B))).status_code == 404

    before = (await client.get("/api/v1/cases", headers=api.staff("shift_lead", A))).json()["total"]
    bad = await client.post(
        "/api/v1/cases",
        files=[
            ("report", (None, report, "application/json")),
            ("photos", ("a.jpg", b"not an image at all", "image/jpeg")),
        ],
        headers=api.staff("supervisor", A),
    )
    assert bad.status_code == 415
    huge = await client.post(
        "/api/v1/cases",
        files=[
            ("report", (None, report, "application/json")),
            ("photos", ("b.jpg", _jpeg() + b"\0" * (10 * 1024 * 1024), "image/jpeg")),
        ],
        headers=api.staff("supervisor", A),
    )
    assert huge.status_code == 413 and "MB" in huge.json()["detail"]
    assert (await client.get("/api/v1/cases", headers=api.staff("shift_lead", A))).json()["total"] == before


async def test_escalation_to_the_city_and_dispatch_to_a_city_department(
    api: Api, client: AsyncTestClient[Litestar], case_world: dict[str, list[Spot]]
) -> None:
    case = await api.report("supervisor", A, case_world[A][22], code="06013")
    case = await api.act(case, "file", "shift_lead", A)
    case = await api.act(case, "escalate", "dispatcher", A, reason="多部门推诿，责任不清")
    assert case["state"] == "escalated" and case["command"] == CITY
    await api.act(case, "dispatch", "dispatcher", A, expect=403)  # the county no longer holds it
    case = await api.act(case, "dispatch", "dispatcher", CITY, unit={"tenant": CITY, "code": "PSGL"})
    assert case["unit"] == {"tenant": CITY, "code": "PSGL", "name": "南通市排水管理处"}

    seen = await client.get("/api/v1/cases?state=dispatched", headers=api.staff("department", CITY))
    assert case["id"] in [c["id"] for c in seen.json()["items"]]
    await api.get(case, "department", B, expect=404)  # a sibling county's department sees nothing
    await api.act(case, "dispose", "department", A, feedback="x", expect=404)  # not its unit: not its case
    case = await api.act(case, "dispose", "department", CITY, feedback="已疏通管道")
    assert case["state"] == "disposed"
    case = await api.act(case, "send_check", "intake", A)  # the county checks and closes its case
    case = await api.act(case, "check_pass", "supervisor", A)
    case = await api.act(case, "close", "shift_lead", A)
    assert case["state"] == "closed"
    gone = await client.get("/api/v1/cases", headers=api.staff("department", CITY))
    assert case["id"] in [c["id"] for c in gone.json()["items"]]  # still assigned: it stays readable


async def test_the_city_dispatches_to_another_countys_unit(
    api: Api, client: AsyncTestClient[Litestar], case_world: dict[str, list[Spot]]
) -> None:
    case = await api.report("supervisor", A, case_world[A][23], code="06013")
    case = await api.act(case, "file", "shift_lead", A)
    case = await api.act(case, "escalate", "dispatcher", A, reason="问题位于两区交界")
    case = await api.act(case, "dispatch", "dispatcher", CITY, unit={"tenant": B, "code": "HJWS"})
    mine = await client.get("/api/v1/cases", headers=api.staff("department", B))
    assert case["id"] in [c["id"] for c in mine.json()["items"]]
    seen = await api.get(case, "department", B)
    assert seen["history"][-1]["action"] == "dispatch"
    case = await api.act(case, "request_return", "department", B, reason="不在本区")
    case = await api.act(case, "approve_return", "dispatcher", CITY)
    assert case["state"] == "escalated" and case["unit"] is None  # back in the city's queue
    await api.get(case, "department", B, expect=404)  # no longer assigned: no longer visible
    case = await api.act(case, "send_back", "dispatcher", CITY, reason="请区县自行派遣")
    assert case["command"] == A


async def test_component_routing_uses_the_inventory(
    api: Api, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    from citylead.units.models import Component

    async with owner_db.transaction(None) as s:
        obj = await s.scalar(
            select(Component)
            .where(Component.tenant_id == registry[A].id, Component.maintainer_unit.is_not(None))
            .order_by(Component.object_id)
            .limit(1)
        )
    assert obj is not None
    spot = Spot(obj.lon, obj.lat, "", "", "")
    case = await api.report(
        "supervisor",
        A,
        spot,
        kind="component",
        code=obj.class_code,
        component_id=obj.object_id,
        description="井盖破损",
    )
    assert case["routing"]["basis"] == "maintainer" and case["routing"]["unit_code"] == obj.maintainer_unit
    assert "部件先属主" in case["routing"]["reason"] and case["component_id"] == obj.object_id


async def test_auto_dispatch_where_the_manual_says_so(
    api: Api, app_db: Database, registry: dict[str, Tenant], case_world: dict[str, list[Spot]]
) -> None:
    from tenants.context import TenantContext
    from tenants.standards.paths import Kind
    from tenants.standards.resolver import Resolver
    from tenants.standards.seeding import publish_layer

    county = "321002"
    async with app_db.transaction(TenantContext(registry[county].path)) as s:
        await publish_layer(
            s,
            Resolver(),
            registry[county],
            Kind.MANUAL,
            {"manual/matter/06015/auto_dispatch": True},
            note="自动派遣",
            acting_user="t",
        )
    spot = case_world[county][0]
    case = await api.report("supervisor", county, spot, code="06015")
    assert case["limits"]["auto_dispatch"] is True
    case = await api.act(case, "file", "shift_lead", county)
    assert case["state"] == "dispatched" and case["unit"]["code"] == spot.street
    assert [(e["action"], e["actor"]) for e in case["history"][-2:]] == [
        ("file", f"shift_lead@{county}"),
        ("dispatch", "system:auto-dispatch"),
    ]
    other = await api.report("supervisor", county, case_world[county][5], code="06016")
    assert (await api.act(other, "file", "shift_lead", county))["state"] == "filed"


async def test_routing_of_a_case_owner_unknown_and_sector(
    api: Api, case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[B][60]
    # A street-light component with no inventory object near: the territory is the last resort.
    lamp = await api.report("supervisor", B, spot, kind="component", code="01006", description="路灯不亮")
    assert lamp["routing"]["basis"] == "territory" and lamp["routing"]["unit_code"] == spot.street
    assert "部件先属主" in lamp["routing"]["reason"]
    # Illegal construction: the manual names the sector department 城管执法.
    built = await api.report("supervisor", B, case_world[B][61], code="06001", description="私搭乱建")
    assert (built["routing"]["basis"], built["routing"]["unit_code"]) == ("sector", "CGZF")
    assert "城管执法" in built["routing"]["reason"]

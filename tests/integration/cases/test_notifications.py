"""Who gets told: each action's notice reaches the next actor — a role of the county, or the unit
the case went to, in the tenant where that unit's people read (a city department, another county's
unit) — and nobody else."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from citylead.db import Database
from tests.integration.cases.conftest import Api, Spot, deliver_notifications

A, B, CITY = "320612", "320613", "320600"


async def inbox(
    api: Api, client: AsyncTestClient[Litestar], role: str, code: str, case: dict[str, Any]
) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/notifications?case={case['id']}", headers=api.staff(role, code))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_each_step_tells_the_next_actor(
    api: Api, client: AsyncTestClient[Litestar], app_db: Database, case_world: dict[str, list[Spot]]
) -> None:
    public = await api.report("intake", A, case_world[A][70], source="hotline_12345", code="06020")
    await deliver_notifications(app_db)
    [told] = await inbox(api, client, "intake", A, public)
    assert told["subject"].startswith("新上报待受理") and told["recipient"] == "intake"
    assert await inbox(api, client, "intake", B, public) == []  # a sibling's intake hears nothing

    case = await api.report("supervisor", A, case_world[A][71], code="06020")
    case = await api.act(case, "file", "shift_lead", A)
    case = await api.act(case, "dispatch", "dispatcher", A, unit={"tenant": CITY, "code": "PSGL"})
    await deliver_notifications(app_db)
    [dispatched] = await inbox(api, client, "department", CITY, case)
    assert dispatched["recipient"] == f"{CITY}/PSGL" and dispatched["subject"].startswith("新派遣案件")
    assert await inbox(api, client, "department", A, case) == []  # not the county's units

    read = await client.post(
        f"/api/v1/notifications/{dispatched['id']}/read", headers=api.staff("department", CITY)
    )
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = (
        await client.get("/api/v1/notifications?unread=true", headers=api.staff("department", CITY))
    ).json()
    assert dispatched["id"] not in [n["id"] for n in unread["items"]]
    other = await client.post(
        f"/api/v1/notifications/{dispatched['id']}/read", headers=api.staff("department", B)
    )
    assert other.status_code == 404


async def test_a_city_dispatch_to_another_county_is_told_in_that_county(
    api: Api, client: AsyncTestClient[Litestar], app_db: Database, case_world: dict[str, list[Spot]]
) -> None:
    case = await api.report("supervisor", A, case_world[A][72], code="06020")
    case = await api.act(case, "file", "shift_lead", A)
    case = await api.act(case, "escalate", "dispatcher", A, reason="跨区")
    await deliver_notifications(app_db)
    [escalated] = await inbox(api, client, "dispatcher", CITY, case)  # the city's command centre
    assert escalated["subject"].startswith("疑难案件")
    assert await inbox(api, client, "dispatcher", A, case) == []
    case = await api.act(case, "dispatch", "dispatcher", CITY, unit={"tenant": B, "code": "HJWS"})
    await deliver_notifications(app_db)
    [told] = await inbox(api, client, "department", B, case)
    assert told["recipient"] == f"{B}/HJWS"
    case = await api.act(case, "dispose", "department", B, feedback="已清理")
    await deliver_notifications(app_db)
    # The disposing unit is in another county: the case's county is told all the same, because the
    # unit is assigned to its case (checked at delivery).
    [disposed] = await inbox(api, client, "intake", A, case)
    assert disposed["subject"].startswith("案件已处置")


async def test_a_notice_cannot_be_sent_sideways(
    app_db: Database, owner_db: Database, registry: dict[str, Any]
) -> None:
    """A county naming a sibling county (or another city) as where to deliver, without a case it
    works on there, gets its notice dropped; one naming its own city is delivered there."""
    from sqlalchemy import select

    from citylead.jobs.notifications import Notification, notify
    from tenants.context import TenantContext

    county = registry[A]
    async with app_db.transaction(TenantContext(county.path)) as s:
        for target, key in (
            (registry[B], "sideways"),
            (registry["321000"], "other-city"),
            (registry[CITY], "up"),
        ):
            notify(
                s,
                county,
                recipient_kind="role",
                recipient="dispatcher",
                subject="测试",
                body="测试",
                dedupe_key=f"forged:{key}",
                deliver_to_id=target.id,
            )
    await deliver_notifications(app_db)
    async with owner_db.transaction(None) as s:
        rows = (
            await s.execute(
                select(Notification.dedupe_key, Notification.tenant_id).where(
                    Notification.dedupe_key.like("forged:%")
                )
            )
        ).all()
    assert dict(rows) == {"forged:up": registry[CITY].id}

"""``/api/v1/tenants`` and profiles: the visible subtree, filters, pagination, bad input, conflicts."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text, update

from citylead.db import Database
from citylead.db.migrate import head_revision
from tenants.audit import AuditEvent
from tenants.models import Tenant, TenantLevel, TenantStatus
from tests.support import Mint, bearer

Client = AsyncTestClient[Litestar]


@pytest.fixture(scope="module", autouse=True)
async def changzhou_live(owner_db: Database, registry: dict[str, Tenant]) -> None:
    async with owner_db.transaction(None) as s:
        city = registry["320400"].id
        await s.execute(
            update(Tenant)
            .where((Tenant.id == city) | (Tenant.parent_id == city))
            .values(status=TenantStatus.LIVE)
        )


def _problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    return body


async def test_province_sees_the_whole_province_and_nothing_else(client: Client, mint: Mint) -> None:
    resp = await client.get(
        "/api/v1/tenants?page_size=500", headers=bearer(mint("province_supervisor", "/32"))
    )
    body = resp.json()
    assert body["total"] == 109  # Jiangsu: 1 province + 13 cities + 95 county-level divisions
    codes = [t["code"] for t in body["items"]]
    assert codes[0] == "320000" and all(c.startswith("32") for c in codes)


async def test_city_sees_itself_and_its_divisions(client: Client, mint: Mint) -> None:
    body = (await client.get("/api/v1/tenants", headers=bearer(mint("city_admin", "/32/3204")))).json()
    assert [t["code"] for t in body["items"]] == [
        "320400",
        "320402",
        "320404",
        "320411",
        "320412",
        "320413",
        "320481",
    ]
    liyang = body["items"][-1]
    assert (
        liyang["name"] == "溧阳市" and liyang["level"] == "county_city" and liyang["level_label"] == "县级市"
    )
    assert liyang["parent_code"] == "320400" and liyang["path"] == "/32/3204/320481/"
    assert 1400 < liyang["area_km2"] < 1650


async def test_county_sees_only_itself(client: Client, mint: Mint) -> None:
    body = (await client.get("/api/v1/tenants", headers=bearer(mint("dispatcher", "/32/3204/320411")))).json()
    assert [t["code"] for t in body["items"]] == ["320411"]


@pytest.mark.parametrize(
    ("query", "expected_total"),
    [
        ("level=prefecture_city", 13),
        ("level=county_city", 21),
        ("parent=320400", 6),
        ("parent=320400&level=municipal_district", 5),
    ],
)
async def test_filters(client: Client, mint: Mint, query: str, expected_total: int) -> None:
    body = (
        await client.get(f"/api/v1/tenants?{query}", headers=bearer(mint("province_admin", "/32")))
    ).json()
    assert body["total"] == expected_total


@pytest.mark.parametrize("level", [None, TenantLevel.PREFECTURE_CITY])
async def test_status_filter_matches_the_database(
    client: Client, mint: Mint, owner_db: Database, level: TenantLevel | None
) -> None:
    """Which tenants are live depends on what other modules arranged, so compare with the truth."""
    query = (
        select(func.count())
        .select_from(Tenant)
        .where(Tenant.status == TenantStatus.LIVE, Tenant.path.op("^@")("/32/"))
    )
    if level is not None:
        query = query.where(Tenant.level == level)
    async with owner_db.transaction(None) as s:
        expected = int(await s.scalar(query) or 0)
    url = "/api/v1/tenants?status=live" + (f"&level={level.value}" if level else "")
    body = (await client.get(url, headers=bearer(mint("province_admin", "/32")))).json()
    assert expected >= 1 and body["total"] == expected
    assert {t["status"] for t in body["items"]} == {"live"}


async def test_pagination_is_stable_and_complete(client: Client, mint: Mint) -> None:
    headers = bearer(mint("province_admin", "/32"))
    seen: list[str] = []
    for page in range(1, 5):
        body = (await client.get(f"/api/v1/tenants?page={page}&page_size=30", headers=headers)).json()
        assert body["page"] == page and body["page_size"] == 30 and body["total"] == 109
        seen += [t["code"] for t in body["items"]]
    assert len(seen) == len(set(seen)) == 109


async def test_parent_outside_the_subtree_is_404(client: Client, mint: Mint) -> None:
    _problem(
        await client.get("/api/v1/tenants?parent=320500", headers=bearer(mint("city_admin", "/32/3204"))), 404
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page=0", "page"),
        ("level=galaxy", "level"),
        ("parent=32", "parent"),
        ("status=maybe", "status"),
    ],
)
async def test_bad_query_is_a_problem_naming_the_field(
    client: Client, mint: Mint, query: str, field: str
) -> None:
    body = _problem(
        await client.get(f"/api/v1/tenants?{query}", headers=bearer(mint("province_admin", "/32"))), 400
    )
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["rule"]


async def test_detail_has_the_boundary(client: Client, mint: Mint) -> None:
    body = (await client.get("/api/v1/tenants/320411", headers=bearer(mint("city_admin", "/32/3204")))).json()
    assert body["name"] == "新北区" and body["boundary"]["type"] in ("Polygon", "MultiPolygon")
    lon, lat = (
        body["boundary"]["coordinates"][0][0][0]
        if body["boundary"]["type"] == "MultiPolygon"
        else body["boundary"]["coordinates"][0][0]
    )
    assert 119.5 < lon < 120.5 and 31.5 < lat < 32.3  # 常州市新北区


async def test_unknown_route_and_method_are_problems(client: Client, mint: Mint) -> None:
    headers = bearer(mint("province_admin", "/32"))
    _problem(await client.get("/api/v1/nothing-here", headers=headers), 404)
    _problem(await client.delete("/api/v1/tenants/320411", headers=headers), 405)


async def test_unexpected_errors_are_problems_without_internals(app: Litestar, client: Client) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.register(boom)
    body = _problem(await client.get("/boom"), 500)
    assert body["detail"] == "an internal error occurred"
    assert "hunter2" not in str(body) and "Traceback" not in str(body)


# --- profiles: an action with optimistic locking, an audit row, and write isolation ---------------

PROFILE = {
    "contact_name": "王科长",
    "contact_phone": "0519-85588000",
    "contact_email": "cg@xinbei.example.cn",
    "supervision_mode": "city",
    "command_mode": "own",
}


async def _get_version(client: Client, headers: dict[str, str], code: str) -> int:
    return int((await client.get(f"/api/v1/tenants/{code}/profile", headers=headers)).json()["version"])


async def test_profile_update_writes_and_audits(client: Client, mint: Mint, owner_db: Database) -> None:
    headers = bearer(mint("county_admin", "/32/3204/320412"))
    version = await _get_version(client, headers, "320412")
    resp = await client.put(
        "/api/v1/tenants/320412/profile", headers=headers, json={"version": version, **PROFILE}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["version"] == version + 1 and resp.json()["updated_by"] == "county_admin@320412"
    async with owner_db.transaction(None) as s:
        event = (
            await s.scalars(
                select(AuditEvent).where(AuditEvent.subject == "tenant:320412").order_by(AuditEvent.at.desc())
            )
        ).first()
    assert (
        event is not None
        and event.action == "tenant.profile_updated"
        and event.actor == "county_admin@320412"
    )
    assert event.data["changes"]["contact_name"] == "王科长"


async def test_stale_version_is_409_not_a_lost_update(client: Client, mint: Mint) -> None:
    headers = bearer(mint("county_admin", "/32/3204/320413"))
    version = await _get_version(client, headers, "320413")
    first = await client.put(
        "/api/v1/tenants/320413/profile",
        headers=headers,
        json={"version": version, **PROFILE, "contact_name": "甲"},
    )
    second = await client.put(
        "/api/v1/tenants/320413/profile",
        headers=headers,
        json={"version": version, **PROFILE, "contact_name": "乙"},
    )
    assert first.status_code == 200
    body = _problem(second, 409)
    assert body["current_version"] == version + 1
    after = (await client.get("/api/v1/tenants/320413/profile", headers=headers)).json()
    assert after["contact_name"] == "甲"


async def test_bad_profile_is_rejected_whole(client: Client, mint: Mint) -> None:
    headers = bearer(mint("county_admin", "/32/3204/320402"))
    version = await _get_version(client, headers, "320402")
    resp = await client.put(
        "/api/v1/tenants/320402/profile",
        headers=headers,
        json={"version": version, **PROFILE, "contact_email": "not-an-email"},
    )
    body = _problem(resp, 400)
    assert body["errors"][0]["field"] == "contact_email" and "matching regex" in body["errors"][0]["rule"]
    assert await _get_version(client, headers, "320402") == version  # nothing half-written


async def test_city_admin_configures_its_county(client: Client, mint: Mint) -> None:
    headers = bearer(mint("city_admin", "/32/3204"))
    version = await _get_version(client, headers, "320481")
    resp = await client.put(
        "/api/v1/tenants/320481/profile", headers=headers, json={"version": version, **PROFILE}
    )
    assert resp.status_code == 200 and resp.json()["updated_by"] == "city_admin@320400"


@pytest.mark.parametrize(
    ("role", "group", "status"),
    [
        ("county_admin", "/32/3204/320411", 404),  # sibling county
        ("city_admin", "/32/3205", 404),  # other city
        ("dispatcher", "/32/3204/320404", 403),
    ],  # its own tenant, but not an administrator
)
async def test_others_cannot_change_a_profile(
    client: Client, mint: Mint, owner_db: Database, role: str, group: str, status: int
) -> None:
    resp = await client.put(
        "/api/v1/tenants/320404/profile", headers=bearer(mint(role, group)), json={"version": 0, **PROFILE}
    )
    _problem(resp, status)
    async with owner_db.transaction(None) as s:
        n = await s.scalar(
            text(
                "SELECT count(*) FROM tenant_profiles p JOIN tenants t ON t.id = p.tenant_id "
                "WHERE t.code = '320404'"
            )
        )
    assert n == 0


async def test_health_and_ready(client: Client) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = (await client.get("/ready")).json()
    assert ready["status"] == "ready" and ready["migrations"] == head_revision()


async def test_ready_is_a_503_problem_when_migrations_lag(client: Client, owner_db: Database) -> None:
    async with owner_db.transaction(None) as s:
        await s.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        body = _problem(await client.get("/ready"), 503)
        assert body["migrations"] == {"database": "0001", "code": head_revision()}
    finally:
        async with owner_db.transaction(None) as s:
            await s.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})


async def test_ready_stays_ready_when_the_database_is_ahead(client: Client, owner_db: Database) -> None:
    """A rolling upgrade: the pre-upgrade job migrated for the next release; the old pods keep
    serving until the new ones are ready (the next release's migrations keep this one working)."""
    async with owner_db.transaction(None) as s:
        await s.execute(text("UPDATE alembic_version SET version_num = '9999_next_release'"))
    try:
        answer = await client.get("/ready")
        assert answer.status_code == 200
        assert answer.json() == {
            "status": "ready", "migrations": "9999_next_release", "code": head_revision(), "database": "ahead"
        }  # fmt: skip
    finally:
        async with owner_db.transaction(None) as s:
            await s.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})

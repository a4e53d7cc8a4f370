"""Suspend, resume and export a tenant: read-only enforced by the database, who may act, the
archive and whether a new installation's imports accept it.

Tenants used here: 连云港市 320700 and its divisions — 东海县 320722 (the county suspended and
exported), 灌云县 320723 (its sibling), 320703 / 320706 / 320707 / 320724 left as they are. 淮安市
320800 appears only as an outsider's context and token; nothing of it is changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Router
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.testing import AsyncTestClient
from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from citylead.api.app import create_app
from citylead.api.auth import BearerAuthentication, provide_principal
from citylead.blobs import LocalBlobStore
from citylead.cases.intake import Report, do_report
from citylead.cases.models import Case, CaseAttachment, CaseEvent
from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.geography.demo import seed_demo_geography
from citylead.geography.index import Locator
from citylead.geography.models import Grid
from citylead.geography.validation import check_geography
from citylead.identity.keys import SigningKeys
from citylead.jobs.notifications import add_notification
from citylead.open311.keys import do_create_client
from citylead.settings import Settings
from citylead.units._formats import COLUMNS, read_inventory
from citylead.units.demo import seed_demo_units
from citylead.units.inventory import validate_rows
from citylead.units.models import Component, Unit
from citylead.units.validation import validate_unit
from provisioning.api_lifecycle import TenantLifecycleController
from provisioning.export import STEPS, begin_snapshot, export_tenant
from provisioning.inputs import read_units
from provisioning.lifecycle import TenantSuspended, do_resume, do_suspend
from tenants.audit import AuditEvent
from tenants.context import TenantContext
from tenants.errors import Conflict, Forbidden
from tenants.models import Tenant, TenantStatus
from tenants.profiles import do_update_profile
from tenants.standards.drafts import DraftPatch, do_patch_draft
from tenants.standards.paths import Kind
from tenants.standards.publishing import do_publish
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import seed_baseline
from tests.support import PUBLIC_URL, Mint, bearer

CITY, COUNTY, SIBLING = "320700", "320722", "320723"
DIVISIONS = ("320703", "320706", "320707", "320722", "320723", "320724")
OTHER_CITY = "/32/3208/"  # 淮安市: an outsider's context, never changed
ROAD = "manual/matter/06012/limit/normal"  # 道路不洁
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, the store keeps bytes as they are"

Client = AsyncTestClient[Litestar]


@dataclass
class World:
    city: Tenant
    county: Tenant
    sibling: Tenant
    cases: list[uuid.UUID]
    spots: list[tuple[float, float]]
    blobs: LocalBlobStore
    photo_key: str
    missing_key: str


def ctx(tenant: Tenant | str) -> TenantContext:
    return TenantContext(tenant if isinstance(tenant, str) else tenant.path)


async def _count(s: AsyncSession, model: type[Any], *where: ColumnElement[bool]) -> int:
    return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _version(db: Database, tenant: Tenant) -> int:
    async with db.transaction(None) as s:
        return int((await s.execute(select(Tenant.version).where(Tenant.id == tenant.id))).scalar_one())


async def _status(owner_db: Database, code: str) -> TenantStatus:
    async with owner_db.transaction(None) as s:
        status = await s.scalar(select(Tenant.status).where(Tenant.code == code))
    assert status is not None
    return status


async def _set_status(owner_db: Database, codes: list[str], status: TenantStatus) -> None:
    async with owner_db.transaction(None) as s:
        await s.execute(update(Tenant).where(Tenant.code.in_(codes)).values(status=status))


async def _tenant(db: Database, context: TenantContext, code: str) -> Tenant:
    async with db.transaction(context) as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.code == code).options(undefer(Tenant.boundary)))
    assert tenant is not None
    return tenant


@pytest.fixture(scope="module")
async def world(
    owner_db: Database,
    app_db: Database,
    registry: dict[str, Tenant],
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    """320700 and its divisions live; 东海县 with geography, units, a profile, its own manual layer,
    three cases (one with a stored photo and one whose photo is missing from the store), a
    notification, an Open311 client and a deactivated unit; 灌云县 with geography and units."""
    province = registry["320000"]
    async with owner_db.transaction(ctx(province)) as s:
        await seed_baseline(s, Resolver(), province)
    await _set_status(owner_db, [CITY, *DIVISIONS], TenantStatus.LIVE)
    await seed_demo_geography(owner_db, [COUNTY, SIBLING])
    await seed_demo_units(owner_db, [COUNTY, SIBLING])
    county = await _tenant(owner_db, ctx(registry[COUNTY]), COUNTY)
    async with owner_db.transaction(None) as s:
        grids = await s.execute(
            select(Grid.centroid_lon, Grid.centroid_lat)
            .where(Grid.tenant_id == county.id)
            .order_by(Grid.code)
        )
        spots = [(lon, lat) for lon, lat in grids]
        s.add(
            Unit(
                tenant_id=county.id, code="OLD01", name="原市政所", kind="sector", sector="市政", active=False
            )
        )
    resolver, locator, actor = Resolver(), Locator(), "county_admin@320722"
    async with app_db.transaction(ctx(county)) as s:
        await do_update_profile(
            s,
            county,
            {"contact_name": "王主任", "contact_phone": "0518-87000000"},
            expected_version=None,
            acting_user=actor,
        )
        await do_patch_draft(
            s,
            resolver,
            county,
            Kind.MANUAL,
            DraftPatch(set={ROAD: "6wh"}),
            expected_version=None,
            acting_user=actor,
        )
        await do_publish(
            s,
            resolver,
            county,
            Kind.MANUAL,
            resolutions={},
            expected_version=None,
            note="本县道路保洁",
            acting_user=actor,
        )
        cases = []
        for i in range(3):
            lon, lat = spots[10 + 17 * i]
            report = Report("matter", "06012", lon, lat, f"路面垃圾 第{i + 1}处", address="牛山街道")
            intake = await do_report(
                s, county, report, resolver=resolver, locator=locator, acting_user="supervisor@320722"
            )
            assert intake.created  # three distinct cases, not joined as duplicates
            cases.append(intake.case.id)
        blobs = LocalBlobStore(tmp_path_factory.mktemp("blobs"))
        photo_key = f"{county.id}/{cases[0]}/{hashlib.sha256(PHOTO).hexdigest()}.jpg"
        missing_key = f"{county.id}/{cases[1]}/{'0' * 64}.jpg"
        await blobs.put(photo_key, PHOTO, "image/jpeg")
        for case_id, key in ((cases[0], photo_key), (cases[1], missing_key)):
            s.add(
                CaseAttachment(
                    tenant_id=county.id,
                    case_id=case_id,
                    stage="report",
                    key=key,
                    content_type="image/jpeg",
                    size=len(PHOTO),
                    sha256=key.rsplit("/", 1)[1][:64],
                    width=1,
                    height=1,
                    uploaded_by=actor,
                )
            )
        await add_notification(
            s,
            county.id,
            recipient_kind="role",
            recipient="shift_lead",
            subject="测试通知",
            body="请处理",
            dedupe_key=f"lifecycle:{uuid.uuid4()}",
        )
        await do_create_client(s, county, "东海随手拍", acting_user=actor)
    return World(
        city=await _tenant(owner_db, ctx(registry[CITY]), CITY),
        county=await _tenant(owner_db, ctx(county), COUNTY),
        sibling=await _tenant(owner_db, ctx(registry[SIBLING]), SIBLING),
        cases=cases,
        spots=spots,
        blobs=blobs,
        photo_key=photo_key,
        missing_key=missing_key,
    )


@pytest.fixture(autouse=True)
async def _live_again(owner_db: Database) -> AsyncIterator[None]:
    """Whatever a test did, the city and its divisions are live afterwards."""
    yield
    await _set_status(owner_db, [CITY, *DIVISIONS], TenantStatus.LIVE)


@pytest.fixture(scope="module")
async def api(
    database_urls: DatabaseUrls, signing_keys: SigningKeys, registry: dict[str, Tenant], world: World
) -> AsyncIterator[Client]:
    """The real app; the lifecycle routes are mounted here until the app factory wires them."""
    settings = Settings()
    settings.server = settings.server.model_copy(update={"public_url": PUBLIC_URL})
    settings.identity = settings.identity.model_copy(update={"identity": "embedded"})
    app = create_app(settings, app_database_url=database_urls.app, keys=signing_keys)
    if not any(r.path == "/api/v1/tenants/{code:str}/suspend" for r in app.routes):
        app.register(
            Router(
                "/api/v1",
                route_handlers=[TenantLifecycleController],
                dependencies={"principal": Provide(provide_principal)},
                middleware=[DefineMiddleware(BearerAuthentication)],
            )
        )
    app.state.blobs = world.blobs
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as client:
        yield client


def who(mint: Mint, role: str, code: str) -> dict[str, str]:
    group = {"320000": "/32", "320700": "/32/3207", "320800": "/32/3208"}.get(code, f"/32/3207/{code}")
    return bearer(mint(role, group))


async def _suspend(db: Database, world: World, code: str = COUNTY, *, reason: str = "整改停用") -> Tenant:
    async with db.transaction(ctx(world.city)) as s:
        target = await s.scalar(select(Tenant).where(Tenant.code == code))
        assert target is not None
        return await do_suspend(s, target, reason=reason, acting_user="city_admin@320700")


# ---------------------------------------------------------------- read-only, enforced in the database


async def test_a_suspended_county_reads_but_every_write_fails_with_25006(
    app_db: Database, owner_db: Database, world: World
) -> None:
    async with app_db.transaction(ctx(world.county)) as s:
        before = await _count(s, CaseEvent, CaseEvent.tenant_id == world.county.id)
        await s.execute(text("SELECT 1 FROM tenant_profiles FOR UPDATE"))  # positive control: writable
    version = await _version(owner_db, world.county)
    suspended = await _suspend(app_db, world)
    assert (suspended.status, suspended.version) == (TenantStatus.SUSPENDED, version + 1)

    async with app_db.transaction(ctx(world.county)) as s:
        assert (await s.execute(text("SHOW transaction_read_only"))).scalar() == "on"
        assert await s.scalar(text("SELECT current_setting('app.suspended')")) == "320722 东海县"
        events = await _count(s, CaseEvent, CaseEvent.tenant_id == world.county.id)
        assert events == before > 0  # the history is all there
        assert await _count(s, Case, Case.tenant_id == world.county.id) == 3
    for stmt in (
        "UPDATE tenant_profiles SET contact_name = '改' WHERE tenant_id = :id",
        "INSERT INTO audit_events (tenant_id, actor, action, subject) VALUES (:id, 'x', 'x', 'x')",
        "UPDATE cases SET description = '改' WHERE tenant_id = :id",
        "SELECT nextval('case_number_seq')",
    ):
        with pytest.raises(DBAPIError) as caught:
            async with app_db.transaction(ctx(world.county)) as s:
                await s.execute(text(stmt), {"id": world.county.id})
        assert caught.value.orig.sqlstate == "25006", stmt  # type: ignore[union-attr]
    async with app_db.transaction(ctx(world.sibling)) as s:  # the sibling is not touched
        assert (await s.execute(text("SHOW transaction_read_only"))).scalar() == "off"

    async with app_db.transaction(ctx(world.city)) as s:
        county = await s.get_one(Tenant, world.county.id)
        resumed = await do_resume(s, county, acting_user="city_admin@320700")
    assert resumed.status is TenantStatus.LIVE
    async with app_db.transaction(ctx(world.county)) as s:
        changed = await s.execute(
            text("UPDATE tenant_profiles SET contact_name = '王主任' WHERE tenant_id = :id"),
            {"id": world.county.id},
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]
    async with app_db.transaction(ctx(world.county)) as s:
        trail = (
            await s.execute(
                select(AuditEvent.action, AuditEvent.actor, AuditEvent.data)
                .where(AuditEvent.tenant_id == world.county.id, AuditEvent.action.like("tenant.%"))
                .order_by(AuditEvent.at.desc())
                .limit(2)
            )
        ).all()
    assert [(a, actor) for a, actor, _ in trail] == [
        ("tenant.resumed", "city_admin@320700"),
        ("tenant.suspended", "city_admin@320700"),
    ]
    assert trail[1][2] == {"reason": "整改停用", "from": "live", "to": "suspended", "by_path": "/32/3207/"}


async def test_a_suspended_city_makes_its_counties_read_only_too(app_db: Database, world: World) -> None:
    async with app_db.transaction(ctx("/32/")) as s:
        city = await s.get_one(Tenant, world.city.id)
        await do_suspend(s, city, reason="全市整改", acting_user="province_admin@320000")
    async with app_db.transaction(ctx(world.sibling)) as s:
        assert (await s.execute(text("SHOW transaction_read_only"))).scalar() == "on"
        assert await s.scalar(text("SELECT current_setting('app.suspended')")) == "320700 连云港市"
    with pytest.raises(TenantSuspended) as caught:  # nor can the suspended city resume its counties
        await _suspend(app_db, world, SIBLING)
    assert "320700 连云港市 is suspended (已停用)" in caught.value.detail


async def test_writes_reaching_a_suspended_county_from_another_context_are_refused(
    app_db: Database, owner_db: Database, world: World
) -> None:
    """The city holding a county's case (after an escalation) acts in its own context, which is not
    read-only; the trigger on cases and events refuses it all the same."""
    held = world.cases[2]
    async with owner_db.transaction(None) as s:
        await s.execute(update(Case).where(Case.id == held).values(command_tenant_id=world.city.id))
    touch = text("UPDATE cases SET updated_at = now() WHERE id = :id")
    add_event = text(
        "INSERT INTO case_events (tenant_id, case_id, seq, actor, action, to_state) "
        "VALUES (:tenant, :id, 999, 'dispatcher@320700', 'note', 'accepted')"
    )
    async with app_db.transaction(ctx(world.city)) as s:  # positive control while live
        assert (await s.execute(touch, {"id": held})).rowcount == 1  # type: ignore[attr-defined]
    await _suspend(app_db, world)
    for stmt in (touch, add_event):
        with pytest.raises(DBAPIError) as caught:
            async with app_db.transaction(ctx(world.city)) as s:
                await s.execute(stmt, {"id": held, "tenant": world.county.id})
        assert caught.value.orig.sqlstate == "25006"  # type: ignore[union-attr]
        assert "tenant 320722 东海县 is suspended" in str(caught.value.orig)


async def test_the_overdue_sweep_skips_a_suspended_county(
    app_db: Database, owner_db: Database, world: World
) -> None:
    case = world.cases[1]
    async with owner_db.transaction(None) as s:  # due in 2099, so no other test's sweep sees it
        await s.execute(
            update(Case)
            .where(Case.id == case)
            .values(step="dispose", due_at=text("'2099-01-01'::timestamptz"))
        )
    due = text("SELECT case_id FROM citylead_overdue_due('2100-01-01'::timestamptz, 100000)")
    try:
        async with app_db.transaction(None) as s:
            assert case in set(await s.scalars(due))
        await _suspend(app_db, world)
        async with app_db.transaction(None) as s:
            assert case not in set(await s.scalars(due))
    finally:  # the trigger refuses even the owner's write while the county is suspended
        await _set_status(owner_db, [COUNTY], TenantStatus.LIVE)
        async with owner_db.transaction(None) as s:
            await s.execute(update(Case).where(Case.id == case).values(step=None, due_at=None))


# ---------------------------------------------------------------- who may, and which transitions


async def test_only_an_administrator_above_may_suspend_or_resume(
    api: Client, mint: Mint, owner_db: Database
) -> None:
    body = {"reason": "数据整改"}
    url = f"/api/v1/tenants/{COUNTY}"
    for role, code, status in (
        ("county_admin", COUNTY, 403),  # itself
        ("dispatcher", CITY, 403),  # above, but not an administrator
        ("county_admin", SIBLING, 404),
        ("city_admin", "320800", 404),  # another city
    ):
        r = await api.post(f"{url}/suspend", json=body, headers=who(mint, role, code))
        assert r.status_code == status, (role, code, r.text)
        assert await _status(owner_db, COUNTY) is TenantStatus.LIVE
    r = await api.post(f"{url}/suspend", json=body, headers=who(mint, "city_admin", CITY))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_label"]) == ("suspended", "已停用")
    for role, code, status in (("county_admin", COUNTY, 403), ("county_admin", SIBLING, 404)):
        r = await api.post(f"{url}/resume", headers=who(mint, role, code))
        assert r.status_code == status, r.text
    r = await api.post(f"{url}/resume", headers=who(mint, "province_admin", "320000"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "live" and await _status(owner_db, COUNTY) is TenantStatus.LIVE


async def test_wrong_transitions_are_409(api: Client, mint: Mint, owner_db: Database, world: World) -> None:
    admin = who(mint, "city_admin", CITY)
    r = await api.post(f"/api/v1/tenants/{COUNTY}/resume", headers=admin)
    assert (r.status_code, r.json()["type"]) == (409, "urn:citylead:problem:conflict")
    assert "only a suspended tenant can be resumed" in r.json()["detail"]
    assert (
        await api.post(f"/api/v1/tenants/{COUNTY}/suspend", json={"reason": "一"}, headers=admin)
    ).status_code == 200
    r = await api.post(f"/api/v1/tenants/{COUNTY}/suspend", json={"reason": "二"}, headers=admin)
    assert r.status_code == 409 and "已停用" in r.json()["detail"]
    r = await api.post(
        "/api/v1/tenants/320000/suspend", json={"reason": "x"}, headers=who(mint, "province_admin", "320000")
    )
    assert r.status_code == 409 and "province" in r.json()["detail"]
    r = await api.post(f"/api/v1/tenants/{SIBLING}/suspend", json={"reason": "  "}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    await _set_status(owner_db, [SIBLING], TenantStatus.ONBOARDING)
    with pytest.raises(Conflict, match="only a live tenant can be suspended"):
        async with owner_db.transaction(ctx(world.city)) as s:
            await do_suspend(s, await s.get_one(Tenant, world.sibling.id), reason="x", acting_user="t")


async def test_the_api_answers_a_write_in_a_suspended_county_with_the_problem(
    api: Client, mint: Mint, world: World
) -> None:
    case = await api.post(
        "/api/v1/cases",
        json={
            "kind": "matter",
            "code": "06012",
            "lon": world.spots[60][0],
            "lat": world.spots[60][1],
            "description": "井边垃圾",
        },
        headers=who(mint, "supervisor", COUNTY),
    )
    assert case.status_code == 201, case.text
    cid = case.json()["id"]
    for action, role in (("file", "shift_lead"), ("escalate", "dispatcher")):
        r = await api.post(
            f"/api/v1/cases/{cid}/actions/{action}",
            json={"reason": "需市级协调"},
            headers=who(mint, role, COUNTY),
        )
        assert r.status_code == 200, r.text
    admin = who(mint, "county_admin", COUNTY)
    profile = (await api.get(f"/api/v1/tenants/{COUNTY}/profile", headers=admin)).json()
    history = (await api.get(f"/api/v1/cases/{cid}", headers=admin)).json()
    assert (
        await api.post(
            f"/api/v1/tenants/{COUNTY}/suspend",
            json={"reason": "整改"},
            headers=who(mint, "city_admin", CITY),
        )
    ).status_code == 200

    r = await api.put(
        f"/api/v1/tenants/{COUNTY}/profile",
        json={
            **{
                k: profile[k]
                for k in (
                    "contact_name",
                    "contact_phone",
                    "contact_email",
                    "supervision_mode",
                    "command_mode",
                )
            },
            "version": profile["version"],
        },
        headers=admin,
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["type"], r.json()["title"], r.json()["tenant"]) == (
        "urn:citylead:problem:tenant-suspended",
        "Tenant suspended",
        COUNTY,
    )
    assert "320722" in r.json()["detail"] and "已停用" in r.json()["detail"]
    # The city holds the escalated case; sending it back writes the county's case: refused, named.
    r = await api.post(
        f"/api/v1/cases/{cid}/actions/send_back",
        json={"reason": "退回"},
        headers=who(mint, "dispatcher", CITY),
    )
    assert (r.status_code, r.json()["type"]) == (409, "urn:citylead:problem:tenant-suspended")
    assert "320722 东海县" in r.json()["detail"]
    after = await api.get(f"/api/v1/cases/{cid}", headers=admin)  # reads still work, history intact
    assert after.status_code == 200 and after.json()["state"] == "escalated"
    assert after.json() == history


async def test_intake_refuses_new_cases_for_a_suspended_county(
    api: Client, mint: Mint, app_db: Database, world: World
) -> None:
    lon, lat = world.spots[40]
    jurisdiction = text("SELECT citylead_open311_jurisdiction(:code)")
    await _suspend(app_db, world)
    call = {
        "hotline": "12345",
        "kind": "matter",
        "code": "06012",
        "lon": lon,
        "lat": lat,
        "description": "市民来电：路面脏",
        "county": COUNTY,
    }
    headers = {**who(mint, "intake", CITY), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    r = await api.post("/api/v1/intake/hotline", json=call, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "county", r.text
    r = await api.post(
        "/api/v1/cases",
        json={k: call[k] for k in ("kind", "code", "lon", "lat", "description")},
        headers=who(mint, "supervisor", COUNTY),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "county", r.text
    async with app_db.transaction(None) as s:
        assert await s.scalar(jurisdiction, {"code": COUNTY}) is None  # Open311: no such jurisdiction
    async with app_db.transaction(ctx(world.city)) as s:
        await do_resume(s, await s.get_one(Tenant, world.county.id), acting_user="t")
    async with app_db.transaction(None) as s:
        assert await s.scalar(jurisdiction, {"code": COUNTY}) == world.county.path
    r = await api.post("/api/v1/intake/hotline", json=call, headers=headers)
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- isolation of the new functions


async def test_status_function_acts_only_strictly_below_the_caller(
    app_db: Database, owner_db: Database, world: World
) -> None:
    set_status = text("SELECT citylead_tenant_set_status(:id, 'suspended', 'intruder', '{}'::jsonb)")
    for context in (ctx(world.county), ctx(world.sibling), ctx(OTHER_CITY), None):
        async with app_db.transaction(context) as s:
            assert await s.scalar(set_status, {"id": world.county.id}) is None
    async with owner_db.transaction(None) as s:
        intruded = await _count(s, AuditEvent, AuditEvent.actor == "intruder")
    assert (await _status(owner_db, COUNTY), intruded) == (TenantStatus.LIVE, 0)
    version = await _version(owner_db, world.county)
    async with app_db.transaction(ctx(world.city)) as s:  # positive control
        assert await s.scalar(set_status, {"id": world.county.id}) == version + 1


async def test_an_export_from_another_tenant_sees_none_of_the_county(app_db: Database, world: World) -> None:
    """Even with the access check bypassed, a sibling's or another city's transaction exports no row
    of the county: row-level security is the second lock."""
    for context in (ctx(world.sibling), ctx(OTHER_CITY)):
        out = io.BytesIO()
        async with app_db.transaction(context) as s:
            report = await export_tenant(s, world.county, out, blobs=world.blobs, acting_user="intruder")
        counts = report.counts()
        assert report.photos == 0 and report.missing_photos == []
        assert {n: c for n, c in counts.items() if n not in ("tenant.json",)} == {
            n: 0 for n in counts if n != "tenant.json"
        }
        tenant_json = json.loads(zipfile.ZipFile(out).read("tenant.json"))
        assert tenant_json["boundary"] is None and tenant_json["profile"] is None


# ---------------------------------------------------------------- the archive


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    data = archive.read(name)
    assert data.startswith(b"\xef\xbb\xbf"), name  # the BOM Excel needs for Chinese
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_the_archive_of_a_suspended_county_seeds_a_new_installation(
    app_db: Database, world: World, tmp_path: Path
) -> None:
    await _suspend(app_db, world)
    path = tmp_path / "320722.zip"
    steps: list[str] = []
    async with app_db.transaction(ctx(world.city)) as s:
        await begin_snapshot(s)
        assert (await s.execute(text("SHOW transaction_isolation"))).scalar() == "repeatable read"
        county = await s.get_one(Tenant, world.county.id)
        report = await export_tenant(
            s, county, path, blobs=world.blobs, acting_user="city_admin@320700", on_step=steps.append
        )
    assert steps == list(STEPS)
    assert report.archive_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.archive_bytes == path.stat().st_size
    archive = zipfile.ZipFile(path)
    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["format"], manifest["format_version"], manifest["exported_by"]) == (
        "citylead-tenant-archive",
        1,
        "city_admin@320700",
    )
    assert manifest["tenant"] == {
        "code": COUNTY,
        "name": "东海县",
        "level": "county",
        "path": "/32/3207/320722/",
        "status": "suspended",
    }
    names = set(archive.namelist()) - {"manifest.json"}
    assert names == set(manifest["files"])
    for name, entry in manifest["files"].items():
        data = archive.read(name)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"]), name
    assert manifest["missing_photos"] == [world.missing_key]
    assert archive.read(f"photos/{world.photo_key}") == PHOTO

    async with app_db.transaction(ctx(world.county)) as s:
        expect = {
            "cases": await _count(s, Case, Case.tenant_id == county.id),
            "events": await _count(s, CaseEvent, CaseEvent.tenant_id == county.id),
            "grids": await _count(s, Grid, Grid.tenant_id == county.id),
            "components": await _count(s, Component, Component.tenant_id == county.id),
            "units": await _count(s, Unit, Unit.tenant_id == county.id, Unit.active.is_(True)),
        }
    counts = {n: e["rows"] for n, e in manifest["files"].items()}
    assert counts["cases.csv"] == counts["cases.jsonl"] == expect["cases"] >= 3
    assert counts["case_events.csv"] == expect["events"] > 0
    assert (counts["case_attachments.csv"], counts["units_inactive.csv"], counts["open311_clients.csv"]) == (
        2,
        1,
        1,
    )
    assert (counts["units.csv"], counts["components.csv"]) == (expect["units"], expect["components"])
    assert counts["standards/manual.json"] == 1 and counts["notifications.csv"] >= 1
    assert report.counts() == {n: c for n, c in counts.items() if not n.startswith("photos/")}

    tenant = json.loads(archive.read("tenant.json"))
    assert (tenant["status"], tenant["status_label"], tenant["parent_code"]) == ("suspended", "已停用", CITY)
    assert tenant["boundary"]["type"] in ("Polygon", "MultiPolygon")
    assert tenant["profile"]["contact_name"] == "王主任" and tenant["geography"]["grids"] == expect["grids"]
    manual = json.loads(archive.read("standards/manual.json"))
    assert manual["versions"][0]["content"]["values"][ROAD] == "6wh" and manual["draft"]["based_on"] == 1
    cases = [json.loads(line) for line in archive.read("cases.jsonl").decode().splitlines()]
    rows = _csv(archive, "cases.csv")
    assert [r["id"] for r in rows] == [c["id"] for c in cases] and set(rows[0]) == set(cases[0])
    assert {str(c) for c in world.cases} <= {c["id"] for c in cases}
    assert (
        isinstance(cases[0]["standards"], dict) and json.loads(rows[0]["standards"]) == cases[0]["standards"]
    )
    clients = _csv(archive, "open311_clients.csv")
    assert clients[0]["name"] == "东海随手拍" and "key_hash" not in clients[0]
    audit_rows = _csv(archive, "audit_events.csv")
    assert "tenant.suspended" in {r["action"] for r in audit_rows}

    # What a new installation's `citylead onboard county` reads, unchanged:
    geo = json.loads(archive.read("geography.geojson"))
    checked = check_geography(
        geo, county_code=COUNTY, county_name=county.name, boundary=world.county.boundary or {}
    )
    assert len(checked.grids) == expect["grids"] > 0 and len(checked.streets) > 0
    fmt, raw, problems = read_inventory(archive.read("components.csv"), "text/csv")
    assert (fmt, problems, len(raw)) == ("csv", [], expect["components"])
    assert list(_csv(archive, "components.csv")[0]) == list(COLUMNS)
    units, shape = read_units(archive.read("units.csv"), "text/csv")
    assert shape == [] and len(units) == expect["units"]
    assert [
        p for u in units for p in validate_unit(county, {"accounts": [], "classes": [], **u.values})
    ] == []
    async with app_db.transaction(ctx(world.county)) as s:  # the full checks; reads work while suspended
        values, problems = await validate_rows(s, Resolver(), world.county, raw)
    assert problems == [] and len(values) == expect["components"]

    async with app_db.transaction(ctx(world.city)) as s:  # audited in the exporter's trail
        audited = (
            await s.execute(
                select(AuditEvent.data)
                .where(
                    AuditEvent.tenant_id == world.city.id,
                    AuditEvent.action == "tenant.exported",
                    AuditEvent.subject == f"tenant:{COUNTY}",
                )
                .order_by(AuditEvent.at.desc())
                .limit(1)
            )
        ).scalar_one()
    assert audited["archive_sha256"] == report.archive_sha256 and audited["tenant_status"] == "suspended"
    assert audited["counts"]["cases.csv"] == expect["cases"]


async def test_a_suspended_county_cannot_audit_an_export_of_itself(app_db: Database, world: World) -> None:
    await _suspend(app_db, world)
    with pytest.raises(TenantSuspended, match="administrator above it exports it"):
        async with app_db.transaction(ctx(world.county)) as s:
            await export_tenant(s, world.county, io.BytesIO(), blobs=None, acting_user="county_admin@320722")


async def test_export_through_the_api(api: Client, mint: Mint) -> None:
    r = await api.get(f"/api/v1/tenants/{COUNTY}/export", headers=who(mint, "city_admin", CITY))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="citylead-320722-') and disposition.endswith('.zip"')
    assert r.headers["x-archive-sha256"] == hashlib.sha256(r.content).hexdigest()
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert json.loads(archive.read("manifest.json"))["tenant"]["code"] == COUNTY
    own = await api.get(f"/api/v1/tenants/{COUNTY}/export", headers=who(mint, "county_admin", COUNTY))
    assert own.status_code == 200
    for role, code, status in (
        ("dispatcher", COUNTY, 403),
        ("county_admin", SIBLING, 404),
        ("city_admin", "320800", 404),
    ):
        r = await api.get(f"/api/v1/tenants/{COUNTY}/export", headers=who(mint, role, code))
        assert r.status_code == status, (role, code, r.text)


async def test_require_admin_above(world: World) -> None:
    from citylead.identity.principal import Principal, Role
    from provisioning.lifecycle import require_admin_above

    def principal(path: str, role: Role) -> Principal:
        return Principal("s", "u", frozenset({role}), path)

    require_admin_above(principal("/32/3207/", Role.CITY_ADMIN), world.county)
    require_admin_above(principal("/32/", Role.PROVINCE_ADMIN), world.county)
    for path, role in (("/32/3207/320722/", Role.COUNTY_ADMIN), ("/32/3207/", Role.COUNTY_ADMIN)):
        with pytest.raises(Forbidden):
            require_admin_above(principal(path, role), world.county)

"""Onboarding a county and a city through the pipeline, as the application role with RLS on.

Tenants used here (nobody else's): 安庆市 340800 and its divisions (340802 迎江区, 340803 大观区,
340811 宜秀区, 340822 怀宁县, 340825 太湖县), 黄山市 341000 (a city onboarded from registered), 亳州市
341600 (left registered).
Steps are driven one message at a time (``drive``); the real broker and a killed worker process
are in test_resume.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import undefer

from citylead.db import Database
from citylead.geography.models import Grid
from citylead.jobs.registry import JobContext
from citylead.units.models import Component, Unit
from provisioning.identity import IdentityTarget
from provisioning.inputs import InputFile, OnboardRequest
from provisioning.models import ProvisioningInput, ProvisioningJob
from provisioning.pipeline import run_step
from provisioning.samples import sample_inputs, units_csv
from provisioning.service import dry_run, get_job, onboard
from provisioning.templates import load_template
from tenants.context import TenantContext
from tenants.errors import Conflict, InvalidInput
from tenants.models import Tenant, TenantStatus
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver
from tenants.standards.seeding import publish_layer, seed_baseline

PROVINCE = TenantContext("/34/")
CITY = "340800"  # 安庆市


@pytest.fixture(scope="module")
async def anqing(owner_db: Database, registry: dict[str, Tenant]) -> dict[str, Tenant]:
    """The province baseline (with templates) published; 安庆 live, its divisions registered."""
    async with owner_db.transaction(PROVINCE) as s:
        province = await s.scalar(select(Tenant).where(Tenant.code == "340000"))
        assert province is not None
        await seed_baseline(s, Resolver(), province)
        await s.execute(update(Tenant).where(Tenant.code == CITY).values(status=TenantStatus.LIVE))
    async with owner_db.transaction(None) as s:
        rows = await s.scalars(
            select(Tenant).where(Tenant.path.startswith("/34/3408/")).options(undefer(Tenant.boundary))
        )
        return {t.code: t for t in rows}


def files_for(
    county: Tenant, *, grids: int = 60, units: int = 12, components: int = 300
) -> dict[str, InputFile]:
    sample = sample_inputs(county, grids=grids, units=units, components=components)
    return {
        "grids": InputFile("grids.geojson", "application/geo+json", json.dumps(sample.grids).encode()),
        "units": InputFile("units.csv", "text/csv", units_csv(sample.units)),
        "components": InputFile("components.csv", "text/csv", sample.components_csv),
    }


async def drive(owner_db: Database, ctx: JobContext, tenant: Tenant) -> int:
    """Deliver the tenant's provisioning messages from the outbox, in order, until none is left."""
    delivered = 0
    while True:
        async with owner_db.transaction(None) as s:
            rows = (
                await s.execute(
                    text(
                        "UPDATE outbox SET sent_at = now() WHERE tenant_id = :t "
                        "AND actor = 'provisioning.step' AND sent_at IS NULL RETURNING payload"
                    ),
                    {"t": tenant.id},
                )
            ).all()
        if not rows:
            return delivered
        for (payload,) in rows:
            await run_step.fn(ctx, **payload)
            delivered += 1


@pytest.fixture
def ctx(app_db: Database, identity_target: IdentityTarget) -> JobContext:
    return JobContext(app_db, extras={"identity_target": identity_target})


async def test_a_county_goes_live_with_everything(
    app_db: Database, owner_db: Database, anqing: dict[str, Tenant], ctx: JobContext, kc_admin: KeycloakAdmin
) -> None:
    county = anqing["340802"]  # 迎江区
    request = OnboardRequest(
        "county", county.code, CITY, "district", "Admin@YJ.example.cn", files_for(county)
    )
    resolver = Resolver()

    checked = await dry_run(app_db, resolver, PROVINCE, request)
    assert checked.problems == []
    assert checked.plan["geography"]["grids"] >= 54
    assert checked.plan["template"]["name"] == "district"

    submitted = await onboard(app_db, resolver, PROVINCE, request, acting_user="cli:test")
    assert submitted.admin_username == "admin@yj.example.cn"
    assert submitted.temporary_password
    delivered = await drive(owner_db, ctx, county)
    view = await get_job(app_db, TenantContext("/34/3408/"), submitted.job.id)
    assert delivered == 9, [
        (s.name, s.state, s.error) for s in view.steps
    ]  # the district template overrides no standards

    view = await get_job(app_db, TenantContext("/34/3408/"), submitted.job.id)  # the city reads it
    assert view.job.state == "succeeded", view.as_dict()
    assert [(s.name, s.state) for s in view.steps if s.state != "done"] == [("standards", "skipped")]
    assert all(s.duration_ms is not None for s in view.steps if s.state == "done")
    smoke = next(s for s in view.steps if s.name == "smoke")
    assert (
        smoke.detail is not None and smoke.detail["grid"] and smoke.detail["unit"] and smoke.detail["due_at"]
    )

    path = TenantContext(county.path)
    async with app_db.transaction(path) as s:
        tenant = await s.get(Tenant, county.id)
        assert tenant is not None and tenant.status is TenantStatus.LIVE and tenant.live_since is not None
        assert (
            await s.scalar(select(func.count()).select_from(Grid).where(Grid.tenant_id == county.id))
            == checked.plan["geography"]["grids"]
        )
        assert (
            await s.scalar(
                select(func.count()).select_from(Component).where(Component.tenant_id == county.id)
            )
            == 300
        )
        codes = set((await s.scalars(select(Unit.code).where(Unit.tenant_id == county.id))).all())
        assert {"CGZF", "YLLH", "SZSS", "HJWS"} <= codes  # the template's units
        # no case was left by the smoke check, and the one-time password is gone
        assert await s.scalar(text("SELECT count(*) FROM cases WHERE tenant_id = :t"), {"t": county.id}) == 0
        assert (
            await s.scalar(
                select(func.count()).select_from(ProvisioningInput).where(ProvisioningInput.secret)
            )
            == 0
        )

    group = kc_admin.get_group_by_path("/34/3408/340802")
    users = kc_admin.get_users({"username": "admin@yj.example.cn", "exact": True})
    assert len(users) == 1
    assert group["id"] in {g["id"] for g in kc_admin.get_user_groups(users[0]["id"])}
    assert "county_admin" in {r["name"] for r in kc_admin.get_realm_roles_of_user(users[0]["id"])}

    with pytest.raises(InvalidInput) as info:  # live now: a second onboarding is refused
        await onboard(app_db, resolver, PROVINCE, request, acting_user="cli:test")
    assert "already live" in info.value.errors[0].rule


async def test_every_kind_of_bad_input_is_reported_together(
    app_db: Database, anqing: dict[str, Tenant]
) -> None:
    county = anqing["340822"]  # 怀宁县
    files = files_for(county, grids=30, units=8, components=50)
    grids = json.loads(files["grids"].content)
    grid_features = [f for f in grids["features"] if f["properties"]["layer"] == "grid"]
    grid_features[1]["geometry"] = grid_features[0]["geometry"]  # overlapping grids
    grid_features[2]["geometry"]["coordinates"][0] = [
        [p[0] + 5, p[1]] for p in grid_features[2]["geometry"]["coordinates"][0]
    ]  # far outside
    grid_features[3]["properties"]["code"] = "12345"  # a bad grid code
    units_text = files["units"].content.decode("utf-8-sig").splitlines()
    units_text.append(units_text[1])  # a duplicate unit code
    components = files["components"].content.decode().splitlines()
    first = components[1].split(",")
    header = components[0].split(",")
    first[header.index("owner_unit")] = "NOSUCH"  # a unit the inventory references but nobody defines
    components[1] = ",".join(first)
    request = OnboardRequest(
        "county",
        county.code,
        CITY,
        "district",  # a 县 may not use the 市辖区 template
        "not-an-email",
        {
            "grids": InputFile("g.geojson", "application/geo+json", json.dumps(grids).encode()),
            "units": InputFile("u.csv", "text/csv", "\n".join(units_text).encode()),
            "components": InputFile("c.csv", "text/csv", "\n".join(components).encode()),
        },
    )
    checked = await dry_run(app_db, Resolver(), PROVINCE, request)
    fields = [p.field for p in checked.problems]
    text_of = " | ".join(f"{p.field}: {p.rule}" for p in checked.problems)
    assert "template" in fields, text_of
    assert "admin" in fields
    assert any(
        f.startswith("grids: ") and "overlap" in r.rule for f, r in zip(fields, checked.problems, strict=True)
    ), text_of
    assert any(
        f.startswith("grids: ") and "boundary" in r.rule
        for f, r in zip(fields, checked.problems, strict=True)
    ), text_of
    assert any(f.startswith("grids: features/") and f.endswith("code") for f in fields), text_of
    assert any(
        f.startswith("units: rows/") and "repeats" in r.rule
        for f, r in zip(fields, checked.problems, strict=True)
    ), text_of
    assert any(f.startswith("components: rows/2/owner_unit") for f in fields), text_of
    with pytest.raises(InvalidInput):
        await onboard(app_db, Resolver(), PROVINCE, request, acting_user="cli:test")
    async with app_db.transaction(TenantContext(county.path)) as s:  # nothing half-written
        assert (
            await s.scalar(
                select(func.count())
                .select_from(ProvisioningJob)
                .where(ProvisioningJob.tenant_id == county.id)
            )
            == 0
        )
        assert (await s.get(Tenant, county.id)).status is TenantStatus.REGISTERED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "city", "rule"),
    [
        ("340899", CITY, "340899 in the registry"),  # unknown county
        ("340802", "340899", "no city 340899"),  # unknown city
        ("341002", CITY, "not under"),  # a Huangshan district, not Anqing's
        ("340800", "340000", "no city 340000"),  # a city is not a county
    ],
)
async def test_wrong_targets(
    app_db: Database, anqing: dict[str, Tenant], code: str, city: str, rule: str
) -> None:
    request = OnboardRequest("county", code, city, "district")
    checked = await dry_run(app_db, Resolver(), PROVINCE, request)
    assert any(rule in p.rule for p in checked.problems), checked.problems


async def test_a_county_of_a_city_not_live_must_wait(app_db: Database, registry: dict[str, Tenant]) -> None:
    request = OnboardRequest("county", "341602", "341600", "district")  # 亳州 is only registered
    checked = await dry_run(app_db, Resolver(), PROVINCE, request)
    assert any("onboard the city first" in p.rule for p in checked.problems)


async def test_one_running_job_per_tenant(app_db: Database, anqing: dict[str, Tenant]) -> None:
    county = anqing["340803"]  # 大观区
    request = OnboardRequest(
        "county", county.code, CITY, "district", files=files_for(county, grids=20, units=6, components=10)
    )
    first = await onboard(app_db, Resolver(), PROVINCE, request, acting_user="a")
    with pytest.raises(Conflict):
        await onboard(app_db, Resolver(), PROVINCE, request, acting_user="b")
    assert first.temporary_password is None  # no admin asked for


async def test_a_city_goes_live_and_its_template_is_inherited(
    app_db: Database,
    owner_db: Database,
    registry: dict[str, Tenant],
    ctx: JobContext,
    kc_admin: KeycloakAdmin,
) -> None:
    huangshan = registry["341000"]  # 黄山市
    request = OnboardRequest("city", "341000", "340000", "city", "admin@huangshan.example.cn")
    submitted = await onboard(app_db, Resolver(), PROVINCE, request, acting_user="cli:test")
    await drive(owner_db, ctx, huangshan)
    view = await get_job(app_db, PROVINCE, submitted.job.id)
    assert view.job.state == "succeeded", view.as_dict()
    assert [s.name for s in view.steps] == [
        "validate",
        "plan",
        "tenant",
        "units",
        "identity",
        "standards",
        "live",
    ]
    async with app_db.transaction(TenantContext(huangshan.path)) as s:
        assert (await s.get(Tenant, huangshan.id)).status is TenantStatus.LIVE  # type: ignore[union-attr]
        assert set((await s.scalars(select(Unit.code).where(Unit.tenant_id == huangshan.id))).all()) == {
            "PSGL",
            "LDS",
        }
        doc = await Resolver().effective(s, huangshan, Kind.TEMPLATE)
        assert doc.value("template/district/label") == "市辖区（市级监督、区级指挥）"
    assert kc_admin.get_group_by_path("/34/3410")["name"] == "3410"
    # the city is live: its division may now be checked without the "onboard the city first" rule
    checked = await dry_run(
        app_db, Resolver(), PROVINCE, OnboardRequest("county", "341002", "341000", "district")
    )
    assert not any("onboard the city first" in p.rule for p in checked.problems)


async def test_isolation_of_the_new_county_and_its_job(
    app_db: Database, owner_db: Database, anqing: dict[str, Tenant], ctx: JobContext
) -> None:
    """From its first row: a sibling county, another city and the other province see none of its
    rows and cannot change them; its city reads but cannot write."""
    county = anqing["340811"]  # 宜秀区
    request = OnboardRequest(
        "county", county.code, CITY, "district", files=files_for(county, grids=20, units=6, components=20)
    )
    submitted = await onboard(app_db, Resolver(), PROVINCE, request, acting_user="cli:test")
    await drive(owner_db, ctx, county)
    tables = [
        "provisioning_jobs",
        "provisioning_steps",
        "provisioning_inputs",
        "grids",
        "units",
        "components",
    ]
    readers = {
        "/34/3408/340811/": True,
        "/34/3408/": True,
        "/34/3408/340802/": False,  # sibling
        "/34/3401/": False,  # another city
        "/32/": False,  # another province
    }
    for path, sees in readers.items():
        async with app_db.transaction(TenantContext(path)) as s:
            for table in tables:
                n = await s.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": county.id}
                )
                assert (n > 0) == sees, (path, table, n)
        if path == county.path:
            continue
        for table in tables:
            verb = "DELETE FROM" if table == "provisioning_inputs" else "UPDATE"
            tail = "" if verb == "DELETE FROM" else " SET tenant_id = tenant_id"
            async with app_db.transaction(TenantContext(path)) as s:
                changed = await s.execute(
                    text(f"{verb} {table}{tail} WHERE tenant_id = :t"), {"t": county.id}
                )
                assert changed.rowcount == 0, (path, table)  # type: ignore[attr-defined]
        async with app_db.transaction(TenantContext(path)) as s:
            result = await s.execute(
                update(ProvisioningJob).where(ProvisioningJob.id == submitted.job.id).values(state="failed")
            )
            assert result.rowcount == 0  # type: ignore[attr-defined]
    view = await get_job(app_db, TenantContext("/34/3408/"), submitted.job.id)
    assert view.job.state == "succeeded"


async def test_the_api(client: Any, mint: Any, anqing: dict[str, Tenant]) -> None:
    county = anqing["340825"]  # 太湖县
    files = files_for(county, grids=25, units=8, components=40)
    city_admin = {"Authorization": "Bearer " + mint("city_admin", "/34/3408")}
    other_city = {"Authorization": "Bearer " + mint("city_admin", "/34/3401")}
    county_admin = {"Authorization": "Bearer " + mint("county_admin", "/34/3408/340825")}
    multipart = {name: (f.filename, f.content, f.media_type) for name, f in files.items()}
    form = {"code": county.code, "template": "county", "admin": "admin@th.example.cn"}

    dry = await client.post(
        "/api/v1/tenants/340800/counties",
        data={**form, "dry_run": "true"},
        files=multipart,
        headers=city_admin,
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["ok"] is True and dry.json()["plan"]["geography"]["grids"] > 0

    bad = await client.post(
        "/api/v1/tenants/340800/counties",
        data={**form, "template": "nope"},
        files=multipart,
        headers=city_admin,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"] == "template" for e in bad.json()["errors"])

    assert (
        await client.post("/api/v1/tenants/340800/counties", data=form, files=multipart, headers=other_city)
    ).status_code == 404
    assert (
        await client.post("/api/v1/tenants/340800/counties", data=form, files=multipart, headers=county_admin)
    ).status_code == 404

    accepted = await client.post(
        "/api/v1/tenants/340800/counties", data=form, files=multipart, headers=city_admin
    )
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["first_admin"]["username"] == "admin@th.example.cn"
    job_url = accepted.headers["location"]
    shown = await client.get(job_url, headers=city_admin)
    assert shown.status_code == 200
    assert shown.json()["state"] == "queued"
    assert [s["name"] for s in shown.json()["steps"]][:3] == ["validate", "plan", "tenant"]
    assert (await client.get(job_url, headers=other_city)).status_code == 404


async def test_a_city_adapts_a_template_for_its_divisions(
    app_db: Database, owner_db: Database, anqing: dict[str, Tenant]
) -> None:
    """安庆 adds a transport department to its 县级市 template: 桐城市 gets it, with provenance; the
    province's template for other cities is unchanged."""
    city = anqing[CITY]
    async with app_db.transaction(TenantContext(city.path)) as s:
        await publish_layer(
            s,
            Resolver(),
            city,
            Kind.TEMPLATE,
            {
                "template/county-city/unit/JTYS": {
                    "name": "{county}交通运输局",
                    "kind": "sector",
                    "sector": "交通",
                }
            },
            note="安庆: 县级市 also get a transport department",
            acting_user="city_admin@340800",
        )
    tongcheng = anqing["340881"]
    async with app_db.transaction(TenantContext(tongcheng.path)) as s:
        template = await load_template(s, Resolver(), tongcheng, "county-city")
    assert template is not None
    assert "JTYS" in [u.code for u in template.units]
    assert next(u.name for u in template.units if u.code == "JTYS") == "桐城市交通运输局"
    assert template.provenance["template/county-city/unit/JTYS"] == "340800 v1"
    assert template.provenance["template/county-city/label"].startswith("340000 v")
    checked = await dry_run(
        app_db, Resolver(), PROVINCE, OnboardRequest("county", "340881", CITY, "county-city")
    )
    assert "JTYS" in checked.plan["template"]["units"]
    async with app_db.transaction(TenantContext("/34/3401/")) as s:  # another city: the province's
        other = await load_template(
            s, Resolver(), (await s.scalar(select(Tenant).where(Tenant.code == "340100"))), "county-city"
        )  # type: ignore[arg-type]
    assert other is not None and "JTYS" not in [u.code for u in other.units]


async def test_the_city_api_is_for_province_admins(client: Any, mint: Any, anqing: dict[str, Tenant]) -> None:
    province = {"Authorization": "Bearer " + mint("province_admin", "/34")}
    supervisor = {"Authorization": "Bearer " + mint("province_supervisor", "/34")}
    city_admin = {"Authorization": "Bearer " + mint("city_admin", "/34/3408")}
    form = {"code": "341700", "template": "city", "dry_run": "true"}  # 池州市, registered
    url = "/api/v1/tenants/340000/cities"
    ok = await client.post(url, data=form, headers=province)
    assert ok.status_code == 200, ok.text
    assert ok.json()["ok"] is True and ok.json()["plan"]["units"] == {"total": 2, "sector": 2}
    refused = await client.post(url, data=form, headers=supervisor)
    assert refused.status_code == 403
    assert "province_admin" in refused.json()["detail"]
    assert (await client.post(url, data=form, headers=city_admin)).status_code == 404
    json_body = await client.post(url, json=form, headers=province)
    assert json_body.status_code == 415


def test_a_territorial_unit_of_the_file_replaces_the_templates_for_its_street(
    anqing: dict[str, Tenant],
) -> None:
    """A street keeps one territorial unit: the file's (any code), not also the template's."""
    from provisioning.checks import planned_units, territorial_units
    from provisioning.inputs import RawUnit
    from provisioning.templates import Template

    county = anqing["340802"]
    template = Template("district", "市辖区", ["municipal_district"], "city", "own", "whole", [], [], True)
    streets = territorial_units(
        county, [("340802001", "人民街道", "street"), ("340802002", "解放街道", "street")]
    )
    raw = [
        RawUnit(
            "rows/2",
            {"code": "JD01", "name": "人民街道办事处", "kind": "territorial", "street_code": "340802001"},
        )
    ]
    units = {u["code"]: u.get("street_code") for u in planned_units(county, template, streets, raw)}
    assert units == {"340802002": "340802002", "JD01": "340802001"}


def test_a_worker_signs_in_to_the_admin_api_once(ctx: JobContext, identity_target: IdentityTarget) -> None:
    """The client-credentials grant (an Argon2id check on the embedded provider) once per worker."""
    from provisioning.identity_runtime import _client

    first = _client(ctx, identity_target)
    assert _client(ctx, identity_target) is first
    other = IdentityTarget(
        identity_target.server_url,
        identity_target.realm,
        identity_target.client_id,
        identity_target.client_secret,
        timeout_seconds=5,
    )
    assert _client(ctx, other) is not first  # another target: another sign-in

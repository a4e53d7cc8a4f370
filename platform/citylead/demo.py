"""The demo province: Jiangsu registered, three cities live, one demo user per role and level.

Every demo user is ``ROLE@CODE`` with the password ``citylead-demo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.db import Database
from citylead.demo_standards import seed_demo_standards
from citylead.geography.demo import seed_demo_geography
from citylead.identity.idp import directory
from citylead.identity.passwords import hash_password
from citylead.identity.principal import Role
from citylead.units.demo import seed_demo_units
from tenants.models import Tenant, TenantStatus
from tenants.registry import LoadReport, load_province

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_PROVINCE",
    "HOTLINE_CLIENT",
    "HOTLINE_SECRET",
    "DemoUser",
    "demo_users",
    "ensure_baselines",
    "seed_demo",
    "seed_demo_operations",
    "seed_directory",
]

DEMO_PROVINCE = "320000"
DEMO_PASSWORD = "citylead-demo"  # noqa: S105 - published demo credential, README lists it
# A 12345 hotline system of the pilot city (client credentials, role intake): README lists it.
HOTLINE_CLIENT = "hotline-12345"
HOTLINE_SECRET = "citylead-demo-hotline"  # noqa: S105 - published demo credential

# Cities live in the demo, with the date each went live (coverage grows over time).
LIVE_CITIES = {
    "320400": datetime(2025, 3, 1, tzinfo=UTC),  # 常州市: the 以市带县 pilot, all six divisions
    "320200": datetime(2025, 9, 1, tzinfo=UTC),  # 无锡市
    "320500": datetime(2026, 4, 1, tzinfo=UTC),  # 苏州市
}
ONBOARDING_CITIES = ("320100",)  # 南京市: city registered on the platform, divisions not yet
OPERATIONS = (Role.INTAKE, Role.SHIFT_LEAD, Role.DISPATCHER, Role.DEPARTMENT, Role.SUPERVISOR)
PILOT_CITY = "320400"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    tenant_code: str
    tenant_name: str
    group_path: str


def _group(path: str) -> str:
    return path.rstrip("/")


def demo_users(tenants: list[Tenant]) -> list[DemoUser]:
    """Province: admin and supervisor. Live cities: an admin (the pilot city: its command centre
    too). Live divisions: an admin (the pilot city's: every operating role)."""
    users: list[DemoUser] = []

    def add(role: Role, t: Tenant) -> None:
        users.append(DemoUser(f"{role.value}@{t.code}", role, t.code, t.name, _group(t.path)))

    by_code = {t.code: t for t in tenants}
    province = by_code[DEMO_PROVINCE]
    add(Role.PROVINCE_ADMIN, province)
    add(Role.PROVINCE_SUPERVISOR, province)
    for city_code in LIVE_CITIES:
        city = by_code[city_code]
        add(Role.CITY_ADMIN, city)
        if city_code == PILOT_CITY:
            for role in OPERATIONS:
                add(role, city)
        for t in sorted((t for t in tenants if t.parent_id == city.id), key=lambda t: t.code):
            add(Role.COUNTY_ADMIN, t)
            if city_code == PILOT_CITY:
                for role in OPERATIONS:
                    add(role, t)
    return users


async def _go_live(session: AsyncSession) -> None:
    for city_code, since in LIVE_CITIES.items():
        city_id = await session.scalar(select(Tenant.id).where(Tenant.code == city_code))
        await session.execute(
            update(Tenant)
            .where((Tenant.id == city_id) | (Tenant.parent_id == city_id))
            .values(status=TenantStatus.LIVE, live_since=since, version=Tenant.version + 1)
        )
    await session.execute(
        update(Tenant).where(Tenant.code.in_(ONBOARDING_CITIES)).values(status=TenantStatus.ONBOARDING)
    )
    await session.execute(
        update(Tenant)
        .where(Tenant.code == DEMO_PROVINCE)
        .values(status=TenantStatus.LIVE, live_since=min(LIVE_CITIES.values()))
    )


async def seed_directory(session: AsyncSession, users: list[DemoUser], *, provisioner_secret: str) -> None:
    """Realm roles, the two clients, and the demo users with their groups (idempotent)."""
    for role in Role:
        await directory.ensure_realm_role(session, role.value, role.label)
    await directory.ensure_client(session, "citylead", public=True, direct_access_grants=True)
    await directory.ensure_client(
        session,
        "citylead-provisioner",
        public=False,
        secret=provisioner_secret,
        direct_access_grants=False,
        service_account_admin=True,
    )
    await directory.ensure_client(
        session,
        HOTLINE_CLIENT,
        public=False,
        secret=HOTLINE_SECRET,
        direct_access_grants=False,
        service_account_roles=[Role.INTAKE.value],
    )
    hotline = await directory.get_client(session, HOTLINE_CLIENT)
    assert hotline is not None
    account = await directory.service_account_user(session, hotline)
    pilot = next(u.group_path for u in users if u.tenant_code == PILOT_CITY)
    await directory.add_user_groups(session, account.id, [await directory.ensure_group_path(session, pilot)])
    password_hash = hash_password(DEMO_PASSWORD)  # one hash: all demo users share the published password
    for u in users:
        await directory.ensure_user(
            session,
            u.username,
            password_hash=password_hash,
            first_name=u.role.label,
            last_name=u.tenant_name,
            groups=[u.group_path],
            roles=[u.role.value],
        )


async def seed_demo(owner: Database, *, provisioner_secret: str) -> LoadReport | None:
    """Seed the demo province if no tenant exists yet; return what the registry load did."""
    async with owner.transaction(None) as s:
        if await s.scalar(select(func.count()).select_from(Tenant)):
            return None
        report = await load_province(s, DEMO_PROVINCE)
        await _go_live(s)
        tenants = list((await s.scalars(select(Tenant))).all())
        await seed_directory(s, demo_users(tenants), provisioner_secret=provisioner_secret)
    await seed_demo_standards(owner, DEMO_PROVINCE)
    await seed_demo_operations(owner)
    return report


async def ensure_baselines(owner: Database) -> dict[str, list[str]]:
    """Publish what a province's baseline lacks (a kind added by an upgrade, such as the onboarding
    templates): idempotent, run at every start. Province code → the kinds published."""
    from tenants.context import TenantContext
    from tenants.models import TenantLevel
    from tenants.standards.resolver import Resolver
    from tenants.standards.seeding import seed_baseline

    async with owner.transaction(None) as s:
        provinces = list((await s.scalars(select(Tenant).where(Tenant.level == TenantLevel.PROVINCE))).all())
    done: dict[str, list[str]] = {}
    for province in provinces:
        async with owner.transaction(TenantContext(province.path)) as s:
            published = await seed_baseline(s, Resolver(), province)
        if published:
            done[province.code] = [k.value for k in published]
    return done


async def seed_demo_operations(owner: Database) -> None:
    """Geography (generated unit grids), units and a component inventory for every live county."""
    async with owner.transaction(None) as s:
        live = await s.scalars(
            select(Tenant.code).where(Tenant.status == TenantStatus.LIVE).order_by(Tenant.code)
        )
        codes = [c for c in live if not c.endswith("00")]
    await seed_demo_geography(owner, codes)
    await seed_demo_units(owner, codes)

"""Units through the actions, as the application role: create, change with optimistic locking,
deactivate, list, fetch, and the units a department user acts for.

宿迁市 321300 and its districts 宿城区 321302, 宿豫区 321311.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from citylead.units.models import Unit, UnitKind
from citylead.units.service import (
    access_unit,
    do_deactivate_unit,
    do_update_unit,
    list_units,
    units_of_account,
)
from tenants.audit import AuditEvent
from tenants.context import TenantContext
from tenants.errors import Conflict, InvalidInput, NotFound
from tenants.models import Tenant
from tests.integration.units.conftest import Acting, create_unit

CITY, COUNTY, SIBLING = "321300", "321302", "321311"


def _problems(exc: InvalidInput) -> dict[str, str]:
    return {p.field: p.rule for p in exc.errors}


async def test_create_then_read_back_with_an_audit_event(acting: Acting, registry: dict[str, Tenant]) -> None:
    unit = await create_unit(
        acting,
        registry,
        COUNTY,
        code="svc-cgzf",
        name="宿城区城管执法大队",
        kind="sector",
        sector="城管执法",
        classes=["matter:08", "matter:09001"],
        accounts=["zhang.san"],
        credit_code="91350100M000100Y43",
    )
    assert (unit.version, unit.active, unit.tenant_id) == (1, True, registry[COUNTY].id)
    async with acting(COUNTY) as s:
        found = await access_unit(s, TenantContext(registry[COUNTY].path), COUNTY, "svc-cgzf")
        events = list(
            await s.scalars(select(AuditEvent).where(AuditEvent.subject == f"unit:{COUNTY}/svc-cgzf"))
        )
    assert (found.name, found.sector, found.classes) == (
        "宿城区城管执法大队",
        "城管执法",
        ["matter:08", "matter:09001"],
    )
    assert [e.action for e in events] == ["unit.created"]
    assert events[0].data["values"]["kind"] == "sector"


async def test_every_broken_rule_is_listed_and_nothing_is_written(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await create_unit(
            acting,
            registry,
            COUNTY,
            code="bad code!",
            name="",
            kind="office",
            street_code="320411001",
            classes=["component", "event:06"],
            accounts=["a b"],
            credit_code="91350100M000100Y44",
        )
    problems = _problems(caught.value)
    assert set(problems) == {
        "code",
        "name",
        "kind",
        "street_code",
        "classes/0",
        "classes/1",
        "accounts/0",
        "credit_code",
    }
    assert "321302" in problems["street_code"]
    assert "check character" in problems["credit_code"]
    async with acting(COUNTY) as s:
        assert await s.scalar(select(Unit).where(Unit.code == "bad code!")) is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "sector"}, "sector"),
        ({"kind": "territorial"}, "street_code"),
        ({"kind": "shopfront", "street_code": "32130"}, "street_code"),
    ],
    ids=["sector-needs-sector", "territorial-needs-street", "shopfront-street-shape"],
)
async def test_kind_specific_rules(
    acting: Acting, registry: dict[str, Tenant], values: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await create_unit(acting, registry, COUNTY, code="svc-kind", **values)
    assert list(_problems(caught.value)) == [field]


async def test_one_active_territorial_unit_per_street(acting: Acting, registry: dict[str, Tenant]) -> None:
    first = await create_unit(
        acting,
        registry,
        COUNTY,
        code="svc-t1",
        name="洋河镇人民政府",
        kind="territorial",
        street_code="321302100",
    )
    with pytest.raises(InvalidInput) as caught:
        await create_unit(
            acting, registry, COUNTY, code="svc-t2", kind="territorial", street_code="321302100"
        )
    assert "svc-t1" in _problems(caught.value)["street_code"]
    async with acting(COUNTY) as s:  # once the first is deactivated, the street can have a new one
        await do_deactivate_unit(
            s, registry[COUNTY], "svc-t1", expected_version=first.version, acting_user="t"
        )
    second = await create_unit(
        acting, registry, COUNTY, code="svc-t2", kind="territorial", street_code="321302100"
    )
    assert second.active


async def test_a_code_is_unique_within_its_tenant_only(acting: Acting, registry: dict[str, Tenant]) -> None:
    await create_unit(acting, registry, COUNTY, code="svc-dup", kind="sector", sector="市政")
    with pytest.raises(Conflict):
        await create_unit(acting, registry, COUNTY, code="svc-dup", kind="sector", sector="市政")
    other = await create_unit(acting, registry, SIBLING, code="svc-dup", kind="sector", sector="市政")
    assert other.tenant_id == registry[SIBLING].id


async def test_update_with_a_stale_version_is_a_conflict(acting: Acting, registry: dict[str, Tenant]) -> None:
    unit = await create_unit(acting, registry, COUNTY, code="svc-upd", kind="sector", sector="环卫")
    county = registry[COUNTY]
    async with acting(COUNTY) as s:
        changed = await do_update_unit(
            s,
            county,
            "svc-upd",
            {"name": "宿城区环境卫生管理所"},
            expected_version=unit.version,
            acting_user="t",
        )
        assert changed.version == 2
    with pytest.raises(Conflict) as caught:
        async with acting(COUNTY) as s:
            await do_update_unit(s, county, "svc-upd", {"name": "lost"}, expected_version=1, acting_user="t")
    assert caught.value.extra["current_version"] == 2
    with pytest.raises(InvalidInput) as bad:
        async with acting(COUNTY) as s:
            await do_update_unit(s, county, "svc-upd", {"sector": None}, expected_version=2, acting_user="t")
    assert list(_problems(bad.value)) == ["sector"]
    async with acting(COUNTY) as s:
        after = await access_unit(s, TenantContext(county.path), COUNTY, "svc-upd")
        events = list(
            await s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.subject == f"unit:{COUNTY}/svc-upd")
                .order_by(AuditEvent.at)
            )
        )
    assert (after.name, after.version, after.sector) == ("宿城区环境卫生管理所", 2, "环卫")
    assert events == ["unit.created", "unit.updated"]


async def test_the_units_an_account_acts_for(acting: Acting, registry: dict[str, Tenant]) -> None:
    unit = await create_unit(
        acting,
        registry,
        COUNTY,
        code="svc-acc",
        kind="sector",
        sector="园林绿化",
        accounts=["svc.worker", "x"],
    )
    await create_unit(
        acting, registry, CITY, code="svc-city", kind="sector", sector="排水", accounts=["svc.worker"]
    )
    await create_unit(
        acting, registry, SIBLING, code="svc-sib", kind="sector", sector="排水", accounts=["svc.worker"]
    )
    await create_unit(
        acting, registry, COUNTY, code="svc-other", kind="sector", sector="排水", accounts=["svc.work"]
    )
    async with acting(COUNTY) as s:  # the county sees its own and its city's units, not its sibling's
        mine = [(u.tenant_id, u.code) for u in await units_of_account(s, "svc.worker")]
    assert sorted(mine) == sorted([(registry[COUNTY].id, "svc-acc"), (registry[CITY].id, "svc-city")])
    async with acting(COUNTY) as s:
        await do_deactivate_unit(
            s, registry[COUNTY], "svc-acc", expected_version=unit.version, acting_user="t"
        )
    async with acting(COUNTY) as s:  # still theirs (open cases), flagged inactive
        after = {u.code: u.active for u in await units_of_account(s, "svc.worker")}
    assert after == {"svc-acc": False, "svc-city": True}


async def test_unknown_fields_are_refused(acting: Acting, registry: dict[str, Tenant]) -> None:
    with pytest.raises(InvalidInput) as caught:
        await create_unit(acting, registry, COUNTY, code="svc-unknown", kind="sector", sector="x", owner="me")
    assert list(_problems(caught.value)) == ["owner"]
    with pytest.raises(InvalidInput) as changed:
        async with acting(COUNTY) as s:
            await do_update_unit(
                s, registry[COUNTY], "svc-x", {"code": "y"}, expected_version=1, acting_user="t"
            )
    assert list(_problems(changed.value)) == ["code"]


async def test_list_filters_and_lineage(acting: Acting, registry: dict[str, Tenant]) -> None:
    await create_unit(acting, registry, COUNTY, code="svc-l1", kind="shopfront", street_code="321302001")
    await create_unit(acting, registry, COUNTY, code="svc-l2", kind="shopfront", street_code="321302002")
    county = registry[COUNTY]
    async with acting(COUNTY) as s:
        page = await list_units(s, [county], kind=UnitKind.SHOPFRONT, street_code="321302002")
        assert [u.code for u in page.items] == ["svc-l2"]
        everything = await list_units(s, [county, registry[CITY]], page_size=500)
        assert {u.tenant_id for u in everything.items} == {county.id, registry[CITY].id}
        assert everything.total == len(everything.items)


async def test_access_unit_hides_what_the_scope_cannot_see(
    acting: Acting, registry: dict[str, Tenant]
) -> None:
    await create_unit(acting, registry, SIBLING, code="svc-hidden", kind="sector", sector="市政")
    async with acting(COUNTY) as s:
        scope = TenantContext(registry[COUNTY].path)
        with pytest.raises(NotFound):
            await access_unit(s, scope, SIBLING, "svc-hidden")
        with pytest.raises(NotFound):
            await access_unit(s, scope, COUNTY, "svc-missing")


async def test_a_city_writes_its_departments_in_the_city(acting: Acting, registry: dict[str, Tenant]) -> None:
    unit = await create_unit(
        acting, registry, CITY, code="svc-psgl", name="宿迁市排水管理处", kind="sector", sector="排水"
    )
    assert unit.tenant_id == registry[CITY].id
    async with acting(COUNTY) as s:  # and the county reads it
        found = await access_unit(s, TenantContext(registry[COUNTY].path), CITY, "svc-psgl")
    assert found.name == "宿迁市排水管理处"

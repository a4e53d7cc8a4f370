"""Several divisions in one run: 宿州市 341300's two live divisions (埇桥区 341302, 砀山县 341321),
pipelined in one process (the next division's month planned while the previous one is written)
and in two worker processes. Every division-month is written once, whole, with its audit event,
in its own county; each county sees only its own cases as the application role.

April and May 2026 only: after the overdue sweep of tests/integration/cases (2 March 2026: no
clock of these is due by then), long before test_paths' October (no case of these is open near a
report replayed there), and not test_seed's June–August."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from citylead.cases.models import Case, CaseEvent
from citylead.db import Database
from citylead.history.generate import generate_history, months_ending
from tenants.audit import AuditEvent
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.history.conftest import CITY, COUNTY, SIBLING

SH = ZoneInfo("Asia/Shanghai")
N = 15


async def _months(app_db: Database, county: Tenant, months: list[str]) -> tuple[Counter[str], int, list[str]]:
    """As the application role in the county: its generated cases per month, their events, and the
    subjects of its demo.history audit events (only those months)."""
    async with app_db.transaction(TenantContext(county.path)) as s:
        month = func.split_part(Case.external_id, ":", 2)
        rows = await s.execute(
            select(month, func.count()).where(Case.tenant_id == county.id, month.in_(months)).group_by(month)
        )
        cases = Counter({str(m): int(n) for m, n in rows.all()})
        ids = select(Case.id).where(Case.tenant_id == county.id, month.in_(months))
        events = await s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id.in_(ids)))
        subjects = sorted(
            await s.scalars(
                select(AuditEvent.subject).where(
                    AuditEvent.action == "demo.history",
                    AuditEvent.subject.in_([f"{county.code}/{m}" for m in months]),
                )
            )
        )
    return cases, int(events or 0), subjects


async def _run(app_db: Database, suzhou: dict[str, Tenant], end: str, jobs: int) -> None:
    city = suzhou[CITY]
    periods = months_ending(end, 1)
    labels = [p.label for p in periods]
    now = datetime.fromisoformat(f"{end}-25T12:00:00+08:00")
    reported: list[tuple[str, str, int]] = []
    report = await generate_history(
        app_db,
        TenantContext(city.path),
        periods,
        N,
        acting_user="test",
        seed="pipeline",
        now=now,
        jobs=jobs,
        on_month=lambda county, month, cases, _: reported.append((county.code, month, cases)),
    )
    assert (report.divisions, report.cases) == (2, 2 * N)
    assert sorted(reported) == [(code, m, N) for code in (COUNTY, SIBLING) for m in labels]
    events = 0
    for code in (COUNTY, SIBLING):
        cases, n, subjects = await _months(app_db, suzhou[code], labels)
        assert cases == Counter(dict.fromkeys(labels, N)), code
        assert subjects == [f"{code}/{m}" for m in labels]
        assert n > 2 * N  # every case has its report event and usually several more
        events += n
    assert report.events == events
    if jobs == 1:  # one process: divisions in order
        assert reported == [(code, m, N) for code in (COUNTY, SIBLING) for m in labels]


async def test_divisions_pipelined_in_one_process(app_db: Database, suzhou: dict[str, Tenant]) -> None:
    await _run(app_db, suzhou, "2026-04", jobs=1)


async def test_divisions_in_two_processes(app_db: Database, suzhou: dict[str, Tenant]) -> None:
    await _run(app_db, suzhou, "2026-05", jobs=2)


async def test_each_county_sees_only_its_own_history(app_db: Database, suzhou: dict[str, Tenant]) -> None:
    county, sibling = suzhou[COUNTY], suzhou[SIBLING]
    async with app_db.transaction(TenantContext(sibling.path)) as s:
        assert await s.scalar(select(Case.id).where(Case.tenant_id == county.id).limit(1)) is None
        assert await s.scalar(select(CaseEvent.seq).where(CaseEvent.tenant_id == county.id).limit(1)) is None
        assert await s.scalar(select(Case.id).where(Case.tenant_id == sibling.id).limit(1)) is not None

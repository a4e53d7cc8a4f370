"""Several periods at once (``list_assessments_many``, the dashboard's trend) on 宣城市's worked
roll-up (xuancheng.py), as the application role with RLS: the same rows as one period at a time,
one counters query, and no rules lookup once the pinned vectors are folded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from citylead.assessment.results import list_assessments, list_assessments_many
from citylead.assessment.rollup import Period
from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.assessment.xuancheng import CITY, LANGXI, PERIOD, PERIOD_BEFORE, XUANZHOU, World

PERIODS = [Period.parse(PERIOD_BEFORE), Period.parse(PERIOD), Period.parse("2019-09")]  # 09: no rows


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def test_many_periods_are_the_single_periods_in_one_go(
    app_db: Database, registry: dict[str, Tenant], xuancheng: World
) -> None:
    """The city's 85.5 grades B in 2019-07 (rules before its override) and A in 2019-08; each
    period's rows are the city's roll-up then its two counties, as ``list_assessments`` gives them."""
    city = TenantContext(registry[CITY].path)
    kinds = ["city", "county"]
    resolver = Resolver()
    async with app_db.transaction(city) as s:
        many = await list_assessments_many(s, city, periods=PERIODS, resolver=resolver, subject_types=kinds)
        one = {
            p.label: [
                r
                for kind in kinds
                for r in await list_assessments(s, city, period=p, resolver=Resolver(), subject_type=kind)
            ]
            for p in PERIODS
        }
    assert many == one
    assert list(many) == ["2019-07", "2019-08", "2019-09"]
    got = {
        label: [(r.subject_type, r.tenant, r.assessment.grade) for r in rows] for label, rows in many.items()
    }
    assert got == {
        "2019-07": [("city", CITY, "B"), ("county", XUANZHOU, "B"), ("county", LANGXI, "B")],
        "2019-08": [("city", CITY, "A"), ("county", XUANZHOU, "A"), ("county", LANGXI, "B")],
        "2019-09": [],
    }
    assert [float(r.assessment.composite or 0) for r in many["2019-08"]] == [85.5, 87.5, 78.0]


async def test_a_warm_trend_sends_no_rules_lookup(
    app_db: Database, registry: dict[str, Tenant], xuancheng: World
) -> None:
    """Once the pinned vectors are folded, a trend is the context, the tenant, the counters and the
    roll-ups' tenants: four statements, however many periods and subjects."""
    city = TenantContext(registry[CITY].path)
    resolver = Resolver()
    for _ in range(2):
        with _statements(app_db) as sent:
            async with app_db.transaction(city) as s:
                found = await list_assessments_many(
                    s, city, periods=PERIODS, resolver=resolver, subject_types=["city", "county"]
                )
    assert sum(len(rows) for rows in found.values()) == 6
    assert len(sent) == 4, sent
    assert not [q for q in sent if "standard_versions" in q]


async def test_a_county_reads_its_own_periods_only(
    app_db: Database, registry: dict[str, Tenant], xuancheng: World
) -> None:
    """In 郎溪县's context (RLS underneath) the periods hold its own rows and no roll-up: the
    county row for ``county``, then every stored row (county, grid) for ``None``."""
    langxi = TenantContext(registry[LANGXI].path)
    async with app_db.transaction(langxi) as s:
        found = await list_assessments_many(
            s, langxi, periods=PERIODS, resolver=Resolver(), subject_types=["city", "county", None]
        )
    assert {label: [(r.subject_type, r.tenant) for r in rows] for label, rows in found.items()} == {
        "2019-07": [("county", LANGXI), ("county", LANGXI), ("grid", LANGXI)],  # county, then all
        "2019-08": [("county", LANGXI), ("county", LANGXI), ("grid", LANGXI)],
        "2019-09": [],
    }

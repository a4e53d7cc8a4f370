"""``citylead demo generate`` in a process of its own against the test database: 埇桥区 341302's
June 2026 is generated and counted at once (roll-ups of the month, its quarter and year, and the
month's volumes); July with ``--no-count`` is left uncounted.

June and July only in 341302: after test_pipeline's April–May, far from test_paths' October."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from citylead.assessment.models import AssessmentCounters
from citylead.cases.volume import CaseVolume
from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.history.conftest import COUNTY

PER = 6


async def _generate(urls: DatabaseUrls, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CITYLEAD_DATABASE_URL": urls.owner,
        "CITYLEAD_APP_DATABASE_URL": urls.app,
        "CITYLEAD_HOME": str(home),
    }
    command = [
        *(sys.executable, "-m", "citylead", "demo", "generate", "--months", "1"),
        *("--cases-per-division-month", str(PER), "--tenant", COUNTY, "--seed", "cli-test", *args),
    ]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=300, check=False
    )


async def _counted(app_db: Database, county: Tenant, month: date) -> tuple[set[str], int]:
    """As the application role in the county: the periods of its stored county rows, and its
    volume of ``month`` by class."""
    async with app_db.transaction(TenantContext(county.path)) as s:
        periods = set(
            await s.scalars(
                select(AssessmentCounters.period).where(
                    AssessmentCounters.tenant_id == county.id, AssessmentCounters.subject_type == "county"
                )
            )
        )
        cases = await s.scalar(
            select(func.coalesce(func.sum(CaseVolume.cases), 0)).where(
                CaseVolume.tenant_id == county.id, CaseVolume.month == month, CaseVolume.axis == "class"
            )
        )
    return periods, int(cases or 0)


async def test_generate_counts_what_it_wrote_unless_told_not_to(
    database_urls: DatabaseUrls, app_db: Database, suzhou: dict[str, Tenant], tmp_path: Path
) -> None:
    county = suzhou[COUNTY]
    done = await _generate(database_urls, tmp_path, "--end", "2026-06")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"1 division(s), {PER} cases" in done.stdout
    assert "Counted 2026-06, 2026Q2, 2026 for 1 division(s)" in done.stdout
    periods, june = await _counted(app_db, county, date(2026, 6, 1))
    assert {"2026-06", "2026Q2", "2026"} <= periods
    assert june == PER

    done = await _generate(database_urls, tmp_path, "--end", "2026-07", "--no-count")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Not counted (--no-count)" in done.stdout
    periods, july = await _counted(app_db, county, date(2026, 7, 1))
    assert "2026-07" not in periods and "2026Q3" not in periods
    assert july == 0

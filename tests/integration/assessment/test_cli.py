"""``citylead assess export`` in a process of its own against the test database: the file it writes
holds the same figures as the API."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from citylead.assessment.results import list_assessments
from citylead.assessment.rollup import Period
from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.standards.resolver import Resolver
from tests.integration.assessment.xuancheng import CITY, LANGXI, PERIOD, XUANZHOU, World


async def _export(urls: DatabaseUrls, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CITYLEAD_DATABASE_URL": urls.owner,
        "CITYLEAD_APP_DATABASE_URL": urls.app,
        "CITYLEAD_HOME": str(home),
    }
    command = [sys.executable, "-m", "citylead", "assess", "export", "--period", PERIOD, *args]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def test_the_cli_writes_the_city_s_results(
    database_urls: DatabaseUrls,
    app_db: Database,
    registry: dict[str, Tenant],
    xuancheng: World,
    tmp_path: Path,
) -> None:
    xlsx, text = tmp_path / "宣城.xlsx", tmp_path / "宣城.csv"
    done = await _export(database_urls, tmp_path, "--tenant", CITY, "--format", "xlsx", "--out", str(xlsx))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 row(s)" in done.stdout
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    header, *cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    shown = {(r[0], r[2], r[3]): dict(zip(header, r, strict=True)) for r in cells}
    scope = TenantContext(registry[CITY].path)
    async with app_db.transaction(scope) as s:
        results = await list_assessments(s, scope, period=Period.parse(PERIOD), resolver=Resolver())
    assert len(shown) == len(results) == 7
    city = shown[(CITY, "市", CITY)]
    assert (city["综合得分"], city["等级"], city["应处置数"], city["按期处置率(%)"]) == (85.5, "A", 50, 70)
    assert shown[(LANGXI, "区县", LANGXI)]["综合得分"] == 78
    assert shown[(XUANZHOU, "区县", XUANZHOU)]["综合得分"] == 87.5

    done = await _export(
        database_urls,
        tmp_path,
        "--tenant",
        LANGXI,
        "--subject-type",
        "county",
        "--format",
        "csv",
        "--out",
        str(text),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = list(csv.DictReader(io.StringIO(text.read_bytes().decode("utf-8-sig"))))
    assert (row["单位"], row["考核对象"], row["综合得分"], row["等级"]) == ("郎溪县", LANGXI, "78.00", "B")


async def test_the_cli_refuses_an_unknown_subject_type(
    database_urls: DatabaseUrls, xuancheng: World, tmp_path: Path
) -> None:
    out = tmp_path / "x.csv"
    done = await _export(
        database_urls,
        tmp_path,
        "--tenant",
        CITY,
        "--subject-type",
        "mayor",
        "--format",
        "csv",
        "--out",
        str(out),
    )
    assert done.returncode == 1
    assert "unknown subject type" in done.stdout
    assert not out.exists()

"""The Cases page (案件情况) in Chromium: the month's volume and today's timer lights equal what
``GET /api/v1/cases`` counts for the same user."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser

from dashboard.figures_cases import SHOWN_CLASSES
from tests.browser.conftest import Api, cell_texts, sign_in
from tests.e2e.test_up import Up

LIGHTS = ("green", "yellow", "red", "paused")


def test_a_city_sees_its_volume_and_lights_as_the_api_counts_them(
    browser: Browser, platform: Up, artifacts: Path
) -> None:
    api = Api(platform.base, "city_admin@320400")
    page = sign_in(browser, platform, "city_admin@320400", next_path="/dashboard/cases")
    page.wait_for_selector("#cases-lights-table tbody tr")
    page.wait_for_selector("#cases-class-table tbody tr")
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    since = month_start.astimezone(UTC).isoformat().replace("+00:00", "Z")
    total = api.get("/api/v1/cases", since=since, page_size=1)["total"]
    assert total > 0
    classes = cell_texts(page, "#cases-class-table")
    assert 1 <= len(classes) <= SHOWN_CLASSES
    counts = [int(row[4]) for row in classes]
    assert counts == sorted(counts, reverse=True)  # the largest 小类 first
    rest = page.locator("#cases-class-table tfoot td")
    hidden = 0  # the 小类 cut from the screen: counted in the line under the table
    if rest.count():
        line = re.fullmatch(r"另有 (\d+) 个小类，共 (\d+) 件，见导出", rest.inner_text().strip())
        assert line is not None and len(classes) == SHOWN_CLASSES
        hidden = int(line[2])
        assert hidden <= int(line[1]) * counts[-1]  # none cut is larger than the last shown
    assert sum(counts) + hidden == total  # 案件数 of every 小类
    assert page.inner_text("#cases-message").startswith(f"{now.year}年{now.month}月共 {total} 件")
    page.screenshot(path=artifacts / "cases-city.png", full_page=True)

    lights = {row[0]: [int(n) for n in row[1:5]] for row in cell_texts(page, "#cases-lights-table")}
    places = api.get("/api/v1/tenants", page_size=100)["items"]
    names = {t["name"]: t["code"] for t in places}
    assert set(lights) <= set(names) and len(lights) >= 1
    for name, counts in lights.items():
        code = names[name]
        expected = [api.get("/api/v1/cases", light=x, county=code, page_size=1)["total"] for x in LIGHTS]
        assert counts == expected, name
    overdue = cell_texts(page, "#cases-overdue")
    reds = sum(counts[2] for counts in lights.values())
    assert len(overdue) == min(reds, 50)
    page.context.close()

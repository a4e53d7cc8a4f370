"""The Performance page (绩效考核) in Chromium: rankings, the counters behind a score and the
drill-down show what ``GET /api/v1/assessments`` answers for the same user and period."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page

from tests.browser.conftest import Api, cell_texts, sign_in
from tests.e2e.test_up import Up


def last_month() -> str:
    """The default period: the last complete Beijing month (the demo history ends this month)."""
    first = datetime.now(ZoneInfo("Asia/Shanghai")).replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


def ranked(rows: list[dict[str, object]]) -> list[list[str]]:
    """The API's rows as the table shows them: best composite first (ties by code)."""
    order = sorted(rows, key=lambda r: (-float(str(r["composite"])), str(r["tenant"])))
    return [[str(r["tenant_name"]), str(r["tenant"]), f"{float(str(r['composite'])):.2f}", str(r["grade"])]
            for r in order]  # fmt: skip


def table(page: Page) -> list[list[str]]:
    page.wait_for_selector("#performance-table tbody tr")
    return [row[1:5] for row in cell_texts(page, "#performance-table")]


def test_the_province_ranks_its_cities_and_drills_down_as_the_api_scores_them(
    browser: Browser, platform: Up, artifacts: Path
) -> None:
    api = Api(platform.base, "province_supervisor@320000")
    period = last_month()
    page = sign_in(browser, platform, "province_supervisor@320000", next_path="/dashboard/performance")
    cities = api.get("/api/v1/assessments", period=period, subject_type="city")
    assert len(cities) == 3  # the demo's live cities
    assert table(page) == ranked(cities)
    page.wait_for_selector("#performance-rank .bars path")
    page.screenshot(path=artifacts / "performance-province.png", full_page=True)

    # the counters behind the best city's score
    page.locator("#performance-table tbody tr").first.click()
    detail = page.locator("#performance-detail")
    detail.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#performance-detail').innerText.includes('disposed')")
    best = min(cities, key=lambda r: (-float(r["composite"]), str(r["tenant"])))
    text = detail.inner_text()
    assert f"{best['counters']['disposed']}（disposed）" in text
    assert f"{best['counters']['due_for_disposal']}（due_for_disposal）" in text
    assert best["rules"] in text
    page.screenshot(path=artifacts / "performance-detail.png", full_page=True)

    # drill down into 常州市: its counties, as the API scores them
    page.click("#performance-drill")
    page.get_by_role("option", name="常州市", exact=True).click()  # the menu opens in a portal
    page.wait_for_function(  # the first ranked row is one of 常州市's counties, no longer a city
        "(c => c.startsWith('3204') && c !== '320400')"
        "(document.querySelector('#performance-table tbody tr td:nth-child(3)').innerText)"
    )
    counties = api.get("/api/v1/assessments", period=period, subject_type="county", tenant="320400")
    assert len(counties) == 6
    assert table(page) == ranked(counties)
    page.screenshot(path=artifacts / "performance-city-drill.png", full_page=True)
    page.context.close()


def test_a_city_admin_ranks_only_their_counties(browser: Browser, platform: Up, artifacts: Path) -> None:
    api = Api(platform.base, "city_admin@320200")
    page = sign_in(browser, platform, "city_admin@320200", next_path="/dashboard/performance")
    shown = table(page)
    counties = api.get("/api/v1/assessments", period=last_month(), subject_type="county")
    assert shown == ranked(counties)
    assert shown and all(code.startswith("3202") for _, code, _, _ in shown)
    page.screenshot(path=artifacts / "performance-city-admin.png", full_page=True)
    page.context.close()

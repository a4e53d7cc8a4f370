"""The Coverage page (覆盖情况) in Chromium: the figures shown equal the API's, for the province
supervisor and for a city administrator, who sees only their city."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Browser

from tests.browser.conftest import Api, cell_texts, sign_in
from tests.e2e.test_up import Up


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _read(cell: str) -> float | None:
    return None if cell == "—" else float(cell.removesuffix("%").strip())


def test_the_province_sees_every_city_as_the_api_counts_them(
    browser: Browser, platform: Up, artifacts: Path
) -> None:
    page = sign_in(browser, platform, "province_supervisor@320000")
    page.wait_for_selector("#coverage-cities tbody tr")
    page.wait_for_selector("#coverage-map .choroplethlayer path")
    assert page.inner_text("#coverage-title") == "覆盖情况 · 江苏省"
    page.screenshot(path=artifacts / "coverage-province.png", full_page=True)
    api = Api(platform.base, "province_supervisor@320000").get("/api/v1/coverage")
    rows = cell_texts(page, "#coverage-cities")
    assert len(rows) == 13 == len(api["by_city"])
    expected = [
        [c["name"], str(c["total"]), str(c["live"]), str(c["onboarding"]), str(c["registered"]),
         str(c["suspended"]), _percent(c["live_share"]), _percent(c["grid_share"])]
        for c in api["by_city"]
    ]  # fmt: skip
    assert [[*r[:6], _read(r[6]), _read(r[7])] for r in rows] == expected
    live = [c for c in api["by_city"] if c["live"]]
    assert len(live) >= 3  # the demo's live cities are on the map in green
    assert page.locator("#coverage-map .choroplethlayer path").count() >= sum(c["live"] for c in live)
    page.context.close()


def test_a_city_admin_sees_only_their_city(browser: Browser, platform: Up, artifacts: Path) -> None:
    page = sign_in(browser, platform, "city_admin@320400")
    page.wait_for_selector("#coverage-cities tbody tr")
    assert page.inner_text("#coverage-title") == "覆盖情况 · 常州市"
    rows = cell_texts(page, "#coverage-cities")
    assert [r[0] for r in rows] == ["常州市"]
    page.screenshot(path=artifacts / "coverage-city.png", full_page=True)
    # a forged callback asking for another city (无锡市) as this admin shows nothing of it
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    deps = httpx.get(f"{platform.base}/dashboard/_dash-dependencies", cookies=cookies).json()
    [dep] = [d for d in deps if {"id": "coverage-city", "property": "value"} in d["inputs"]]
    body = {
        "output": dep["output"],
        "outputs": [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
                    for o in dep["output"].strip(".").split("...")],
        "inputs": [{**i, "value": "320200" if i["id"] == "coverage-city" else None} for i in dep["inputs"]],
        "state": [{**x, "value": None} for x in dep.get("state", [])],
        "changedPropIds": ["coverage-city.value"],
    }  # fmt: skip
    answer = httpx.post(f"{platform.base}/dashboard/_dash-update-component", json=body, cookies=cookies)
    assert answer.status_code in (200, 204, 500)  # an error, or nothing: never the other city's figures
    assert "无锡" not in answer.text and "江阴" not in answer.text
    page.context.close()

"""Browser tests: Playwright drives Debian's Chromium (``/usr/bin/chromium``; ``make test``
installs it, never ``playwright install``) against a real ``citylead up`` on a fresh home.

Screenshots of every page are kept as test artifacts in ``$CITYLEAD_TEST_ARTIFACTS`` (default
``test-artifacts/browser``). The figures shown are compared with the API's answers for the same
user, fetched with a token from the same identity provider.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.test_up import Up, _free_port, _sign_in

CHROMIUM = os.environ.get("CITYLEAD_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "citylead-demo"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    out = Path(os.environ.get("CITYLEAD_TEST_ARTIFACTS", "test-artifacts")) / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Playwright's sync API keeps an event loop running in this thread while it is open, which
    breaks every later ``asyncio.run``: it lives only as long as the browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One ``citylead up`` (the demo province, its history) for every browser test."""
    base = tmp_path_factory.mktemp("browser")
    base.chmod(0o755)
    up = Up(base / "home", _free_port())
    up.wait_ready(timeout=300)
    yield up
    if up.proc.poll() is None:
        up.stop()


class Api:
    """The API as ``username`` sees it."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {_sign_in(base, username)}"}

    def get(self, path: str, **params: Any) -> Any:
        answer = httpx.get(self.base + path, params=params, headers=self.headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()


def sign_in(browser: Browser, platform: Up, username: str, *, next_path: str = "/dashboard/") -> Page:
    """A new browser context signed in through the form, on ``next_path``."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{platform.base}{next_path}")
    page.wait_for_url("**/signin?**")
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_url(f"**{next_path}")
    return page


def cell_texts(page: Page, selector: str) -> list[list[str]]:
    """The text of every body row of the table at ``selector``."""
    rows = page.locator(f"{selector} tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]

"""Signing in and out in a real browser, and who may open the dashboard."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.browser.conftest import PASSWORD, sign_in
from tests.e2e.test_up import Up


def test_the_form_refuses_a_wrong_password_then_signs_in_and_out(
    browser: Browser, platform: Up, artifacts: Path
) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{platform.base}/dashboard/")
    page.wait_for_url("**/signin?next=/dashboard/")
    page.fill("#signin-username", "province_supervisor@320000")
    page.fill("#signin-password", "wrong")
    page.click("#signin-submit")
    assert page.inner_text("#signin-error") == "用户名或密码错误"
    page.screenshot(path=artifacts / "signin-refused.png")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_url("**/dashboard/")
    assert {c["name"] for c in context.cookies()} >= {"citylead_token", "citylead_refresh"}
    assert all(c["httpOnly"] for c in context.cookies() if c["name"].startswith("citylead_"))
    assert page.evaluate("document.cookie") == ""  # no token is readable by scripts
    page.goto(f"{platform.base}/signout")
    page.wait_for_url("**/signin")
    page.goto(f"{platform.base}/dashboard/")
    page.wait_for_url("**/signin?next=/dashboard/")
    context.close()


def test_an_operator_without_a_dashboard_role_is_refused(browser: Browser, platform: Up) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{platform.base}/signin")
    page.fill("#signin-username", "dispatcher@320411")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    assert "无权查看看板" in page.inner_text("#signin-error")
    context.close()


def test_a_signed_in_page_survives_a_reload(browser: Browser, platform: Up) -> None:
    page = sign_in(browser, platform, "city_admin@320400")
    page.reload()
    assert page.url.endswith("/dashboard/")
    page.context.close()

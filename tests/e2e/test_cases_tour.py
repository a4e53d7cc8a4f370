"""The README's case tour against `citylead up`: a report in 新北区 runs the whole loop; a 12345
system's retry finds the same case; and the in-process worker delivers the notices that the
actions queued in the outbox (PostgreSQL as the dramatiq broker, nothing mocked)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_up import TOKEN, Up, _citylead, _sign_in

pytestmark = pytest.mark.e2e

C = "320411"


def _as(base: str, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_sign_in(base, username)}"}


def _act(base: str, case_id: str, action: str, who: str, **body: Any) -> dict[str, Any]:
    r = httpx.post(
        f"{base}/api/v1/cases/{case_id}/actions/{action}",
        json=body,
        headers=_as(base, f"{who}@{C}"),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_loop_with_notices_delivered_by_the_worker(running: Up) -> None:
    base = running.base
    grids = httpx.get(
        f"{base}/api/v1/tenants/{C}/geography/grids?page_size=1",
        headers=_as(base, f"supervisor@{C}"),
        timeout=10,
    )
    lon, lat = grids.json()["items"][0]["centroid"]
    r = httpx.post(
        f"{base}/api/v1/cases",
        json={"kind": "matter", "code": "06012", "lon": lon, "lat": lat, "description": "人行道垃圾"},
        headers=_as(base, f"supervisor@{C}"),
        timeout=10,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["grid_code"] and case["routing"]["basis"] == "territory"
    assert case["limits"]["dispose"] == "1.5wh"  # 新北区's own tightening of the city's 2wh
    for action, who, body in (
        ("file", "shift_lead", {}),
        ("dispatch", "dispatcher", {}),
        ("dispose", "department", {"feedback": "已清扫"}),
        ("send_check", "intake", {}),
        ("check_pass", "supervisor", {}),
        ("close", "shift_lead", {}),
    ):
        case = _act(base, case["id"], action, who, **body)
    assert case["state"] == "closed" and len(case["history"]) == 7

    department = _as(base, f"department@{C}")
    deadline = time.monotonic() + 20
    notices: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not notices:
        notices = httpx.get(
            f"{base}/api/v1/notifications?case={case['id']}", headers=department, timeout=10
        ).json()["items"]
        time.sleep(0.2)
    assert [n["subject"].split("：")[0] for n in notices] == ["新派遣案件"]


def test_a_hotline_retry_returns_the_same_case(running: Up) -> None:
    base = running.base
    token = httpx.post(
        base + TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "hotline-12345",
            "client_secret": "citylead-demo-hotline",
        },
        timeout=10,
    ).json()["access_token"]
    grids = httpx.get(
        f"{base}/api/v1/tenants/{C}/geography/grids?page_size=1&page=9",
        headers=_as(base, f"intake@{C}"),
        timeout=10,
    )
    lon, lat = grids.json()["items"][0]["centroid"]
    call = {
        "hotline": "12345",
        "kind": "matter",
        "code": "06011",
        "lon": lon,
        "lat": lat,
        "description": "来电：垃圾堆放",
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "e2e-call-1"}
    first = httpx.post(f"{base}/api/v1/intake/hotline", json=call, headers=headers, timeout=10)
    again = httpx.post(f"{base}/api/v1/intake/hotline", json=call, headers=headers, timeout=10)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.headers["Idempotency-Replayed"] == "true"
    assert first.json()["county"] == C and first.json()["state"] == "reported"


def test_the_geography_command_reads_the_demo_grids(running: Up, home: Path) -> None:
    done = _citylead(home, "geography", "locate", C, "119.8686", "31.9555")
    assert done.returncode == 0, done.stderr
    assert "320411001001001" in done.stdout

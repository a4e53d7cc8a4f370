"""The closed loop over the API in 通州区 320612: each path of domain.md §5 with its events,
roles, optimistic locking and the problems a caller gets wrong."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.cases.conftest import Api, Spot

C = "320612"


def actions(case: dict[str, Any]) -> list[str]:
    return [e["action"] for e in case["history"]]


async def test_main_line_report_file_dispatch_dispose_check_close(
    api: Api, case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][0]
    case = await api.report("supervisor", C, spot)
    assert case["state"] == "accepted" and case["state_label"] == "待立案"
    assert (case["grid_code"], case["street_code"]) == (spot.grid, spot.street)
    assert case["routing"]["basis"] == "territory" and case["routing"]["unit_code"] == spot.street
    assert "事件先属地" in case["routing"]["reason"]
    assert case["standards"]["manual"].startswith("320000:1,320600:0,320612:0")
    assert case["limits"]["dispose"] == "5wh" and case["limits"]["set_by"]["limit/normal"] == "320000 v1"

    case = await api.act(case, "file", "shift_lead", C, version=case["version"])
    assert case["state"] == "filed" and case["clock"] is None
    case = await api.act(case, "dispatch", "dispatcher", C)
    assert case["state"] == "dispatched" and case["unit"]["code"] == spot.street
    assert case["clock"]["step"] == "dispose" and case["clock"]["limit"] == "5wh"
    assert case["clock"]["light"] == "green" and case["clock"]["due_at"] is not None
    case = await api.act(case, "dispose", "department", C, feedback="已清扫干净")
    assert case["state"] == "disposed" and case["clock"] is None
    case = await api.act(case, "send_check", "intake", C)
    assert case["clock"]["step"] == "check" and case["clock"]["limit"] == "1wh"
    case = await api.act(case, "check_pass", "supervisor", C)
    case = await api.act(case, "close", "shift_lead", C)
    assert case["state"] == "closed" and case["closing_type"] == "normal"
    assert actions(case) == ["report", "file", "dispatch", "dispose", "send_check", "check_pass", "close"]
    last = case["history"][-1]
    assert (last["from_state"], last["to_state"], last["actor"], last["actor_role"]) == (
        "checked",
        "closed",
        f"shift_lead@{C}",
        "shift_lead",
    )
    assert case["your_actions"] == [] and case["allowed_actions"] == []


async def test_public_report_is_verified_then_refused_or_accepted(
    api: Api, case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][1]
    case = await api.report(
        "intake", C, spot, source="hotline_12319", reporter={"name": "王女士", "phone": "13900000000"}
    )
    assert case["state"] == "reported" and case["source"] == "hotline_12319"
    case = await api.act(case, "send_verify", "intake", C)
    assert (
        case["state"] == "verifying" and case["clock"]["step"] == "verify" and case["clock"]["limit"] == "1wh"
    )
    await api.act(case, "verify_false", "supervisor", C, expect=422)  # a reason is required
    case = await api.act(case, "verify_false", "supervisor", C, reason="现场无此问题")
    assert case["state"] == "refused" and case["clock"] is None

    other = await api.report("intake", C, case_world[C][2], source="hotline_12345")
    other = await api.act(other, "accept", "intake", C)
    assert other["state"] == "accepted"


async def test_return_and_redispatch_postpone_park_and_rework(
    api: Api, case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][3]
    case = await api.report("supervisor", C, spot)
    case = await api.act(case, "file", "shift_lead", C)
    case = await api.act(case, "dispatch", "dispatcher", C)
    case = await api.act(case, "request_return", "department", C, reason="不属于本单位职责")
    assert case["state"] == "return_requested"
    case = await api.act(case, "approve_return", "dispatcher", C)
    assert case["state"] == "filed" and case["unit"] is None and case["counters"]["return"] == 1
    case = await api.act(case, "dispatch", "dispatcher", C, unit={"tenant": C, "code": "CGZF"})
    assert case["unit"]["code"] == "CGZF"

    case = await api.act(case, "request_postpone", "department", C, reason="需协调施工", duration="1wd")
    due = case["clock"]["due_at"]
    await api.act(case, "approve_postpone", "dispatcher", C, granted="2wd", expect=422)  # more than asked
    case = await api.act(case, "approve_postpone", "dispatcher", C, granted="4wh")
    assert case["counters"]["postpone"] == 1 and case["clock"]["due_at"] > due
    assert case["history"][-1]["data"]["granted"] == "4wh"

    case = await api.act(case, "request_park", "department", C, reason="需纳入年度改造计划")
    case = await api.act(case, "approve_park", "dispatcher", C)
    assert case["state"] == "parked" and case["clock"]["due_at"] is None and case["clock"]["running"] is False
    case = await api.act(case, "resume", "dispatcher", C)
    assert case["state"] == "dispatched" and case["clock"]["due_at"] is not None

    case = await api.act(case, "dispose", "department", C, feedback="已处理")
    case = await api.act(case, "send_check", "intake", C)
    case = await api.act(case, "check_fail", "supervisor", C, reason="仍有垃圾残留")
    assert (
        case["state"] == "dispatched"
        and case["counters"]["rework"] == 1
        and case["clock"]["step"] == "dispose"
    )


async def test_void_self_handle_and_denials(api: Api, case_world: dict[str, list[Spot]]) -> None:
    case = await api.report("supervisor", C, case_world[C][4])
    case = await api.act(case, "void", "shift_lead", C, reason="重复上报")
    assert case["state"] == "voided"

    own = await api.report("supervisor", C, case_world[C][5])
    await api.act(own, "self_handle", "supervisor", C, feedback="已当场清理", expect=200)
    closed = await api.act(own, "close", "shift_lead", C)
    assert closed["state"] == "closed" and actions(closed)[-2] == "self_handle"

    case = await api.report("supervisor", C, case_world[C][6])
    case = await api.act(case, "file", "shift_lead", C)
    case = await api.act(case, "dispatch", "dispatcher", C)
    for request, deny in (
        ("request_return", "deny_return"),
        ("request_postpone", "deny_postpone"),
        ("request_park", "deny_park"),
    ):
        extra = {"duration": "1wd"} if request == "request_postpone" else {}
        case = await api.act(case, request, "department", C, reason="申请", **extra)
        await api.act(case, deny, "dispatcher", C, expect=422)  # a reason is required
        case = await api.act(case, deny, "dispatcher", C, reason="不同意")
        assert case["state"] == "dispatched"


async def test_illegal_transition_lists_the_allowed_actions(
    api: Api, case_world: dict[str, list[Spot]]
) -> None:
    case = await api.report("supervisor", C, case_world[C][7])
    r = await api.client.post(
        f"/api/v1/cases/{case['id']}/actions/close", json={}, headers=api.staff("shift_lead", C)
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["state"] == "accepted" and body["allowed"] == ["file", "void", "self_handle"]
    assert body["yours"] == ["file", "void"]
    r = await api.client.post(
        f"/api/v1/cases/{case['id']}/actions/fly", json={}, headers=api.staff("shift_lead", C)
    )
    assert r.status_code == 404


async def test_wrong_role_is_403_and_stale_version_is_409(
    api: Api, case_world: dict[str, list[Spot]]
) -> None:
    case = await api.report("supervisor", C, case_world[C][8])
    r = await api.client.post(
        f"/api/v1/cases/{case['id']}/actions/file", json={}, headers=api.staff("dispatcher", C)
    )
    assert r.status_code == 403 and "值班长" in r.json()["detail"]
    await api.act(case, "file", "shift_lead", C, version=case["version"])
    r = await api.client.post(
        f"/api/v1/cases/{case['id']}/actions/void",
        json={"reason": "x"},
        headers={**api.staff("shift_lead", C), "If-Match": f'"{case["version"]}"'},
    )
    assert r.status_code == 409 and r.json()["version"] == case["version"] + 1
    again = await api.get(case, "shift_lead", C)
    assert again["state"] == "filed" and len(again["history"]) == 2  # nothing half-written


async def test_bad_reports_are_422_and_write_nothing(
    api: Api, client: AsyncTestClient[Litestar], case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][9]
    before = (await client.get("/api/v1/cases", headers=api.staff("shift_lead", C))).json()["total"]
    far = await api.report("supervisor", C, spot, expect=422, lon=spot.lon + 2)
    assert far["errors"][0]["field"] == "location"
    unknown = await api.report("supervisor", C, spot, expect=422, code="99999")
    assert unknown["errors"][0]["field"] == "code"
    wrong_kind = await api.report("supervisor", C, spot, expect=422, kind="component", code="06012")
    assert wrong_kind["errors"][0]["field"] == "code"
    urgency = await api.report("supervisor", C, spot, expect=422, urgency="extreme")
    assert urgency["errors"][0]["field"] == "urgency"
    r = await client.post("/api/v1/cases", json={"kind": "matter"}, headers=api.staff("supervisor", C))
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/cases",
        json={"kind": "matter", "code": "06012", "lon": spot.lon, "lat": spot.lat, "description": "x"},
        headers=api.staff("dispatcher", C),
    )
    assert r.status_code == 403
    after = (await client.get("/api/v1/cases", headers=api.staff("shift_lead", C))).json()["total"]
    assert after == before


async def test_a_nearby_report_of_the_same_class_joins_the_open_case(
    api: Api, case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][10]
    first = await api.report("supervisor", C, spot, description="人行道有垃圾")
    second = await api.report(
        "intake",
        C,
        Spot(spot.lon + 0.0002, spot.lat, spot.grid, spot.street, spot.community),
        source="hotline_12345",
        expect=201,
    )
    assert second["id"] == first["id"] and second["counters"]["duplicate"] == 1
    assert second["history"][-1]["action"] == "duplicate"
    elsewhere = await api.report("supervisor", C, spot, code="06011")
    assert elsewhere["id"] != first["id"]


async def test_list_filters_and_scope(
    api: Api, client: AsyncTestClient[Litestar], case_world: dict[str, list[Spot]]
) -> None:
    spot = case_world[C][40]
    case = await api.report("supervisor", C, spot, code="06017")
    case = await api.act(case, "file", "shift_lead", C)
    case = await api.act(case, "dispatch", "dispatcher", C, unit={"tenant": C, "code": "YLLH"})

    async def ids(role: str, query: str) -> list[str]:
        r = await client.get(f"/api/v1/cases?{query}", headers=api.staff(role, C))
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert case["id"] in await ids("dispatcher", f"unit={C}/YLLH&state=dispatched&light=green")
    assert case["id"] not in await ids("dispatcher", f"unit={C}/YLLH&light=red")
    assert case["id"] in await ids(
        "dispatcher", f"street={spot.street}&grid={spot.grid}&code=06017&kind=matter"
    )
    assert case["id"] not in await ids("dispatcher", "source=hotline_110")
    assert case["id"] in await ids("department", "")  # assigned to a unit it acts for
    page = (await client.get("/api/v1/cases?page_size=1&page=2", headers=api.staff("shift_lead", C))).json()
    assert len(page["items"]) == 1 and page["total"] >= 2 and page["page"] == 2
    bad = await client.get("/api/v1/cases?light=blue", headers=api.staff("shift_lead", C))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "light"


async def test_two_dispatchers_at_once_one_wins_the_other_gets_409(
    api: Api, client: AsyncTestClient[Litestar], case_world: dict[str, list[Spot]]
) -> None:
    import asyncio

    case = await api.report("supervisor", C, case_world[C][45], code="06019")
    case = await api.act(case, "file", "shift_lead", C)

    async def dispatch(unit: str) -> int:
        r = await client.post(
            f"/api/v1/cases/{case['id']}/actions/dispatch",
            json={"unit": {"tenant": C, "code": unit}},
            headers=api.staff("dispatcher", C),
        )
        return r.status_code

    codes = await asyncio.gather(dispatch("SZSS"), dispatch("HJWS"))
    assert sorted(codes) == [200, 409]
    final = await api.get(case, "dispatcher", C)
    assert [e["action"] for e in final["history"]].count("dispatch") == 1  # no lost update
    assert final["unit"]["code"] == final["history"][-1]["data"]["unit"]["code"]
